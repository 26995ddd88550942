"""The OpenAPI 3.1 document of the HTTP API, built from the same pydantic models the handlers validate
with. Not imported at run time by any handler (no cold-start cost).

Component schemas come from pydantic with a ``#/components/schemas/{model}`` ref template, so nested
models (``FieldError`` inside ``ErrorBody``, ``RefundView`` inside ``PaymentView``) are components too
and every ``$ref`` resolves. Paths, security schemes, headers, statuses and examples are written here,
route by route, from what the handlers answer (``functions/qpay/handlers``).

``python -m qpay.api.openapi > openapi.json`` (``make openapi``) regenerates it; a test fails when the
file drifts, another validates it with ``openapi-spec-validator``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import models_json_schema

from qpay.api.models import CreatePaymentRequest, RefundRequest
from qpay.api.schemas import CreatePaymentResponse, ErrorBody, PaymentView, RefundResponse

TITLE = "QPay on AWS"
VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
JSON = "application/json"
PAYMENT_ID_PATTERN = r"^qpp_[a-z2-7]{26}$"

# Examples: synthetic ids of the documented shape (a payment id is 26 base32 characters).
PAYMENT_ID = "qpp_ouis5itg55jabpviyxpvvjuvgq"
CLIENT_SECRET = PAYMENT_ID + "_secret_6ypqij5f6zbp7sonph3ehj2kmva2s4ynftyn2o7qmve6nf5wbdhq"
REFUND_ID = "qrf_htbnby6zyjos4riwnnsfi4gnpi"
REQUEST_ID = "Jx3kRgGYDoEEMbQ="

DESCRIPTION = """\
Accept QPay (Qatar's online debit-card payments) through Checkout.com.

**Money** is an integer in minor units: `12500` is QAR 125.00 (1 riyal = 100 dirhams).

**Who calls what.** Your storefront's server creates payments with the merchant API key, or hands the
shopper's browser an order token it minted, so the browser creates the payment without being able to
change the amount. The create answer's `client_secret` lets that browser read this one payment.
Refunds are merchant-only and signed with AWS SigV4 (IAM).

**Errors** from the functions are always
`{"code": "...", "message": "...", "fields": [{"field": "...", "issue": "..."}], "request_id": "..."}`.
API Gateway answers some requests itself, before any function runs, with `{"message": "..."}`:
`403` when SigV4/IAM refuses a refund, `404 {"message": "Not Found"}` for an unknown route or method,
`429 {"message": "Too Many Requests"}` when throttled.
"""

JWT_SCHEME_DOC = """\
A JWT minted by the merchant's server (any JWT library): **HS256**, header
`{"alg": "HS256", "typ": "JWT", "kid": "<a kid of order_token_keys>"}`, claims
`reference` (string, must equal the body's), `amount` (integer minor units, must equal the body's),
`currency` (`"QAR"`, must equal the body's), `exp` (expiry, epoch seconds), `aud` = `"qpay-payments"`,
`jti` (16-128 printable characters, unique per order attempt). A token names exactly one payment
(the payment id derives from its `jti`): replaying it replays that payment, never a second one.
The key is the UTF-8 bytes of the `order_token_keys` entry named by `kid`."""

SIGV4 = """\
AWS Signature Version 4 (`Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
plus `X-Amz-Date`, and `X-Amz-Security-Token` for temporary credentials), service `execute-api`, in the
API's region, by an IAM principal allowed `execute-api:Invoke` on
`arn:aws:execute-api:<region>:<account>:<api-id>/*/POST/payments/*/refunds`. OpenAPI has no SigV4 scheme:
this `apiKey` stands for the signed `Authorization` header (API Gateway's `AWS_IAM` authorizer,
`x-amazon-apigateway-authtype: awsSigv4`). A missing or wrong signature gets API Gateway's own
`403 {"message": "..."}`; no function runs."""

SECURITY_SCHEMES: dict[str, Any] = {
    "merchantKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <merchant API key>`: one of `merchant_api_keys` in the stack's "
        "secret. Server to server only: never in a browser.",
    },
    "orderToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Order-Token",
        "description": JWT_SCHEME_DOC,
    },
    "clientSecret": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Client-Secret",
        "description": "The `client_secret` from the create answer: reads that one payment, nothing else. "
        "Safe to hand to the shopper's browser (as Stripe's client_secret); keep it out of URLs.",
    },
    "sigv4": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": SIGV4,
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
}

GATEWAY_ERROR: dict[str, Any] = {
    "type": "object",
    "title": "GatewayError",
    "description": "API Gateway's own answer (no function ran): IAM refused, unknown route, throttled.",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
    "additionalProperties": False,
}
WEBHOOK_ACK: dict[str, Any] = {
    "type": "object",
    "title": "WebhookAck",
    "properties": {
        "received": {"type": "boolean", "const": True},
        "result": {
            "type": "string",
            "description": "What the notification did: applied, duplicate, stale, unknown, foreign, parked, "
            "ignored, unknown_payment, too_old, recorded",
        },
    },
    "required": ["received", "result"],
    "additionalProperties": False,
}


def _error(code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "fields": fields or [], "request_id": REQUEST_ID}


# Every error a route can answer, by status: (summary, [(example name, code, message, fields)]).
ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "malformed_body": ("400", _error("malformed_body", "request body nests deeper than 16 levels", [
        {"field": "body", "issue": "too deep"}])),
    "no_credentials": ("401", _error("unauthorized", "a merchant API key or an order token is required")),
    "not_bearer": ("401", _error("unauthorized", "use Authorization: Bearer <merchant API key>")),
    "bad_merchant_key": ("401", _error("unauthorized", "merchant API key is not valid")),
    "read_no_credentials": ("401", _error(
        "unauthorized", "use Authorization: Bearer <merchant API key>, or X-Client-Secret from the create call")),
    "bad_signature": ("401", _error("unauthorized", "Cko-Signature does not match the body")),
    "token_mismatch": ("403", _error("forbidden", "amount does not match the order token", [
        {"field": "amount", "issue": "does not match the order token"}])),
    "token_expired": ("403", _error("forbidden", "order token has expired")),
    "token_signature": ("403", _error("forbidden", "order token signature is invalid")),
    "no_such_payment": ("404", _error("not_found", "no such payment")),
    "idempotency_reuse": ("409", _error("conflict", "this Idempotency-Key was used with a different request")),
    "in_progress": ("409", _error("conflict", "a request with this Idempotency-Key is still in progress; retry shortly")),
    "reference_live": ("409", _error("conflict", "order ORD-1001 already has a live payment", [
        {"field": "reference", "issue": "already has a live payment"}])),
    "not_refundable": ("409", _error("not_refundable", "payment is not captured: only captured payments can be refunded")),
    "refund_key_reuse": ("409", _error("conflict", "this Idempotency-Key was used with a different refund request")),
    "not_yet": ("409", _error("not_yet", "refund outcome for a payment whose capture is not recorded yet; retry later")),
    "too_large": ("413", _error("payload_too_large", "request body is larger than 16384 bytes", [
        {"field": "body", "issue": "too large"}])),
    "validation_failed": ("422", _error("validation_failed", "invalid payment request", [
        {"field": "national_id", "issue": "Field required"},
        {"field": "amount", "issue": "Input should be a valid integer"}])),
    "not_json": ("422", _error("validation_failed", "request body is not valid JSON", [
        {"field": "body", "issue": "invalid JSON"}])),
    "idempotency_key_required": ("422", _error("validation_failed", "Idempotency-Key is required", [
        {"field": "Idempotency-Key", "issue": "required"}])),
    "exceeds_balance": ("422", _error("amount_exceeds_balance", "amount exceeds the refundable balance 10000", [
        {"field": "amount", "issue": "at most 10000"}])),
    "not_a_notification": ("422", _error("validation_failed", "not a Checkout.com notification: id and type are "
        "required strings", [{"field": "body", "issue": "id and type are required strings"}])),
    "internal_error": ("500", _error("internal_error", "internal error")),
    "checkout_rejected": ("502", _error("checkout_rejected", "Checkout.com refused the payment", [
        {"field": "checkout", "issue": "processing_channel_id_invalid"}])),
    "checkout_unavailable": ("503", _error(
        "checkout_unavailable", "Checkout.com is unavailable; retry with the same Idempotency-Key")),
    "workflow_not_started": ("503", _error("checkout_unavailable", "refund recorded but its workflow did not start; "
        "retry with the same Idempotency-Key (the refund sweeper also starts it)")),
    "service_misconfigured": ("503", _error(
        "service_misconfigured", "the service is not configured yet; the operator has been alerted")),
}  # fmt: skip

STATUS_MEANING = {
    "400": "Malformed body (nested too deeply)",
    "401": "Missing or invalid credentials",
    "403": "Forbidden",
    "404": "Not found",
    "409": "Conflict: retry later, or with another Idempotency-Key, as `code` and `message` say",
    "413": "Body too large",
    "422": "Invalid input: `fields` names each bad field (never echoing its value)",
    "429": "Throttled by API Gateway",
    "500": "Unexpected error (nothing internal is shown); safe to retry with the same Idempotency-Key",
    "502": "Checkout.com refused the request (not fixable by retrying)",
    "503": "Unavailable: `checkout_unavailable` (retry with the same Idempotency-Key) or "
    "`service_misconfigured` (the stack's secret holds placeholders or short keys: the operator must fix it)",
}
THROTTLED = {"throttled": {"value": {"message": "Too Many Requests"}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _errors(*names: str, gateway: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Responses for these named errors grouped by status; ``gateway``: API Gateway's own answers."""
    out: dict[str, Any] = {}
    for name in names:
        status, body = ERRORS[name]
        entry = out.setdefault(
            status,
            {"description": STATUS_MEANING[status], "content": {JSON: {"schema": _ref("ErrorBody"), "examples": {}}}},
        )
        entry["content"][JSON]["examples"][name] = {"value": body}
    for status, examples in (gateway or {}).items():
        described = STATUS_MEANING[status] + (" (API Gateway's own answer)" if status != "429" else "")
        out[status] = {
            "description": described,
            "content": {JSON: {"schema": _ref("GatewayError"), "examples": examples}},
        }
    return out


def _header(name: str, description: str, *, required: bool = False, max_length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if max_length:
        schema["maxLength"] = max_length
    return {"name": name, "in": "header", "required": required, "description": description, "schema": schema}


def _payment_id_param() -> dict[str, Any]:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "Our payment id (`qpp_…`), from the create answer or the return URL",
        "schema": {"type": "string", "pattern": PAYMENT_ID_PATTERN},
        "example": PAYMENT_ID,
    }


CREATE_BODY = {
    "reference": "ORD-1001",
    "amount": 12500,
    "currency": "QAR",
    "description": "2 kg Khalas dates",
    "language": "en",
    "quantity": 1,
    "national_id": "28763400000",
    "customer": {"email": "shopper@example.com", "name": "Example Shopper"},
    "metadata": {"cart_id": "c-42"},
}
CREATED = {
    "id": PAYMENT_ID,
    "client_secret": CLIENT_SECRET,
    "reference": "ORD-1001",
    "status": "Pending",
    "amount": 12500,
    "currency": "QAR",
    "redirect_url": "https://qpay.example/qpay-external/payment?pun=…",
    "expires_at": "2026-01-01T00:15:00Z",
}
VIEW = {
    "id": PAYMENT_ID,
    "reference": "ORD-1001",
    "status": "Partially Refunded",
    "amount": 12500,
    "currency": "QAR",
    "refunded_amount": 2500,
    "awaiting_confirmation": False,
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:09:30Z",
    "expires_at": "2026-01-01T00:15:00Z",
    "redirect_url": None,
    "refunds": [
        {
            "id": REFUND_ID,
            "amount": 2500,
            "status": "Refunded",
            "reference": None,
            "created_at": "2026-01-01T00:09:00Z",
            "updated_at": "2026-01-01T00:09:30Z",
        }
    ],
}
IDEMPOTENCY_KEY = (
    "Your key for this request (1-255 printable characters). The same key with the same body replays the "
    "first answer (`Idempotent-Replayed: true`); with another body it is a 409."
)


def _create() -> dict[str, Any]:
    return {
        "operationId": "createPayment",
        "tags": ["payments"],
        "summary": "Create a QPay payment",
        "description": "From your server with the merchant key, or from the shopper's browser with an order token "
        "(the body's `reference`, `amount` and `currency` must equal the token's claims). Answers with "
        "`redirect_url` (send the shopper there) and `client_secret` (hand it to the shopper's browser). "
        "`national_id` goes to Checkout.com only: it is never stored, logged or returned.",
        "security": [{"merchantKey": []}, {"orderToken": []}],
        "parameters": [
            _header(
                "Idempotency-Key",
                IDEMPOTENCY_KEY + " Optional here: without it a retry makes a second attempt, which the "
                "one-live-payment-per-reference rule answers with 409. With an order token, the token's `jti` "
                "already names the payment.",
                max_length=255,
            ),
            _header("X-Order-Token", "The order token (see the `orderToken` security scheme), from a browser."),
        ],
        "requestBody": {
            "required": True,
            "content": {
                JSON: {
                    "schema": _ref("CreatePaymentRequest"),
                    "examples": {
                        "server": {"summary": "From your server (merchant key)", "value": CREATE_BODY},
                        "browser": {
                            "summary": "From the browser (order token): minimal body",
                            "value": {
                                k: CREATE_BODY[k]
                                for k in ("reference", "amount", "currency", "description", "national_id")
                            }
                            | {"language": "ar"},
                        },
                    },
                }
            },
        },
        "responses": {
            "201": {
                "description": "Created, or replayed for the same Idempotency-Key / order token",
                "headers": {
                    "Location": {"description": "`/payments/{id}`", "schema": {"type": "string"}},
                    "Idempotent-Replayed": {
                        "description": "`true` when this answers an earlier identical request",
                        "schema": {"type": "string", "const": "true"},
                    },
                },
                "content": {
                    JSON: {"schema": _ref("CreatePaymentResponse"), "examples": {"created": {"value": CREATED}}}
                },
            },
            "200": {
                "description": "Replayed for the same Idempotency-Key / order token, but the payment is no longer "
                "payable (it was paid, or it ended: `status` says which). `redirect_url` is empty: never send the "
                "shopper to pay it again; create a new payment with a new key if the order is still unpaid.",
                "headers": {
                    "Location": {"description": "`/payments/{id}`", "schema": {"type": "string"}},
                    "Idempotent-Replayed": {"description": "`true`", "schema": {"type": "string", "const": "true"}},
                },
                "content": {
                    JSON: {
                        "schema": _ref("CreatePaymentResponse"),
                        "examples": {"ended": {"value": {**CREATED, "status": "Expired", "redirect_url": ""}}},
                    }
                },
            },
            **_errors(
                "malformed_body",
                "no_credentials",
                "not_bearer",
                "bad_merchant_key",
                "token_mismatch",
                "token_expired",
                "token_signature",
                "idempotency_reuse",
                "in_progress",
                "reference_live",
                "too_large",
                "validation_failed",
                "not_json",
                "internal_error",
                "checkout_rejected",
                "checkout_unavailable",
                "service_misconfigured",
                gateway={"429": THROTTLED},
            ),
        },
    }


def _get() -> dict[str, Any]:
    return {
        "operationId": "getPayment",
        "tags": ["payments"],
        "summary": "Get a payment's status and refunds",
        "description": "With the merchant key (your server; adds `cko_payment_id`, `attention`, refund "
        "`reference`) or the payment's `X-Client-Secret` (the shopper's browser). A client secret that is not "
        "this payment's answers 404, as an unknown id does.",
        "security": [{"merchantKey": []}, {"clientSecret": []}],
        "parameters": [
            _payment_id_param(),
            _header("X-Client-Secret", "The create answer's `client_secret` (see the `clientSecret` scheme)."),
        ],
        "responses": {
            "200": {
                "description": "The payment",
                "content": {JSON: {"schema": _ref("PaymentView"), "examples": {"partially_refunded": {"value": VIEW}}}},
            },
            **_errors(
                "read_no_credentials",
                "bad_merchant_key",
                "no_such_payment",
                "internal_error",
                "service_misconfigured",
                gateway={"429": THROTTLED},
            ),
        },
    }


def _return(outcome: str) -> dict[str, Any]:
    return {
        "operationId": f"paymentReturn{outcome.title()}",
        "tags": ["return"],
        "summary": f"The shopper comes back from QPay ({outcome} URL given to Checkout.com)",
        "description": "Never called by you: Checkout.com sends the shopper here. The outcome in the URL is "
        "never trusted: the function asks Checkout.com, records the answer and redirects to your configured "
        "storefront page with `?reference=…&payment_id=…` (`StorefrontSuccessUrl`, or `StorefrontFailureUrl` "
        "for declined/cancelled/expired and `?error=unknown_payment`). When the status could not be confirmed "
        "the shopper lands on the success page with `?payment_id=…&check=1`: poll `GET /payments/{id}`.",
        "security": [],
        "parameters": [
            {"name": "payment_id", "in": "query", "required": False, "schema": {"type": "string"}},
            {"name": "cko-session-id", "in": "query", "required": False, "schema": {"type": "string"}},
        ],
        "responses": {
            "303": {
                "description": "Redirect to your storefront (always one of the configured URLs)",
                "headers": {
                    "Location": {"schema": {"type": "string"}, "example": "https://shop.example/checkout/result"
                                 f"?reference=ORD-1001&payment_id={PAYMENT_ID}"},
                    "Referrer-Policy": {"schema": {"type": "string", "const": "no-referrer"}},
                },
            },
            **_errors(gateway={"429": THROTTLED}),
        },
    }  # fmt: skip


def _webhook() -> dict[str, Any]:
    notification = {
        "id": "evt_az5sblvku4ge3dwpztvyizgcau",
        "type": "payment_captured",
        "created_on": "2026-01-01T00:05:00Z",
        "data": {
            "id": "pay_mbabizu24mvu3mela5njyhpit4",
            "amount": 12500,
            "currency": "QAR",
            "reference": "ORD-1001",
            "metadata": {"qpay_payment_id": PAYMENT_ID},
        },
    }
    return {
        "operationId": "checkoutWebhook",
        "tags": ["webhooks"],
        "summary": "Checkout.com's notifications (register this URL in Checkout.com's Dashboard)",
        "description": "`Cko-Signature` (HMAC-SHA256 of the raw body with a key of `webhook_signing_keys`) is "
        "verified before anything is read; when the secret sets `webhook_authorization`, the `Authorization` "
        "header must equal it too. Any non-2xx makes Checkout.com retry.",
        "security": [],
        "parameters": [
            _header("Cko-Signature", "Hex HMAC-SHA256 of the raw body", required=True),
        ],
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"type": "object"}, "examples": {"captured": {"value": notification}}}},
        },
        "responses": {
            "200": {
                "description": "Durably recorded, or acknowledged as not ours",
                "content": {JSON: {"schema": _ref("WebhookAck"), "examples": {"applied": {"value": {"received": True, "result": "applied"}}}}},
            },
            **_errors(
                "bad_signature",
                "not_yet",
                "too_large",
                "not_a_notification",
                "internal_error",
                "service_misconfigured",
                gateway={"429": THROTTLED},
            ),
        },
    }  # fmt: skip


def _refund() -> dict[str, Any]:
    return {
        "operationId": "refundPayment",
        "tags": ["refunds"],
        "summary": "Refund a captured payment, fully or in part (merchant only: IAM SigV4)",
        "description": "Reserves the amount and starts the refund workflow; poll `GET /payments/{id}` (its "
        "`refunds[]`) or consume the `Refund Succeeded` / `Refund Declined` order events for the outcome. "
        "An empty body refunds the rest of the refundable balance.",
        "security": [{"sigv4": []}],
        "parameters": [
            _payment_id_param(),
            _header(
                "Idempotency-Key",
                IDEMPOTENCY_KEY + " **Required**: a retry without it could move the money twice. One key per "
                "refund you mean (e.g. `refund-ORD-1001-1`).",
                required=True,
                max_length=255,
            ),
        ],
        "requestBody": {
            "required": False,
            "content": {
                JSON: {
                    "schema": _ref("RefundRequest"),
                    "examples": {
                        "partial": {
                            "summary": "QAR 25.00 of it",
                            "value": {"amount": 2500, "reference": "RMA-77", "reason": "one item returned"},
                        },
                        "rest": {"summary": "The whole refundable balance", "value": {}},
                    },
                }
            },
        },
        "responses": {
            "202": {
                "description": "Refund requested (or replayed for the same Idempotency-Key)",
                "headers": {
                    "Idempotent-Replayed": {
                        "description": "`true` when this answers an earlier identical request",
                        "schema": {"type": "string", "const": "true"},
                    }
                },
                "content": {
                    JSON: {
                        "schema": _ref("RefundResponse"),
                        "examples": {
                            "requested": {
                                "value": {
                                    "id": REFUND_ID,
                                    "payment_id": PAYMENT_ID,
                                    "amount": 2500,
                                    "status": "Requested",
                                }
                            }
                        },
                    }
                },
            },
            **_errors(
                "malformed_body",
                "no_such_payment",
                "not_refundable",
                "refund_key_reuse",
                "too_large",
                "idempotency_key_required",
                "exceeds_balance",
                "not_json",
                "internal_error",
                "workflow_not_started",
                gateway={
                    "403": {
                        "unsigned": {"value": {"message": "Forbidden"}},
                        "wrong_signature": {
                            "value": {
                                "message": "The request signature we calculated does not match the signature you "
                                "provided. Check your AWS Secret Access Key and signing method. Consult the service "
                                "documentation for details."
                            }
                        },
                    },
                    "429": THROTTLED,
                },
            ),
        },
    }


def component_schemas() -> dict[str, Any]:
    """The models as OpenAPI components: request bodies as validated, responses as serialised."""
    _, top = models_json_schema(
        [
            (CreatePaymentRequest, "validation"),
            (RefundRequest, "validation"),
            (CreatePaymentResponse, "serialization"),
            (PaymentView, "serialization"),
            (RefundResponse, "serialization"),
            (ErrorBody, "serialization"),
        ],
        ref_template=REF,
    )
    schemas: dict[str, Any] = dict(top["$defs"])
    schemas["GatewayError"] = GATEWAY_ERROR
    schemas["WebhookAck"] = WEBHOOK_ACK
    return schemas


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "servers": [
            {
                "url": "https://{api_id}.execute-api.{region}.amazonaws.com",
                "description": "Deployed (the stack's `ApiUrl` output)",
                "variables": {"api_id": {"default": "abc123"}, "region": {"default": "me-central-1"}},
            },
            {"url": "http://127.0.0.1:3000", "description": "Local stack (`make run`)"},
        ],
        "tags": [
            {"name": "payments", "description": "Create and read payments"},
            {"name": "refunds", "description": "Merchant-only refunds (IAM SigV4)"},
            {"name": "return", "description": "Where Checkout.com sends the shopper back"},
            {"name": "webhooks", "description": "Checkout.com's notifications"},
        ],
        "paths": {
            "/payments": {"post": _create()},
            "/payments/{id}": {"get": _get()},
            "/payments/return/success": {"get": _return("success")},
            "/payments/return/failure": {"get": _return("failure")},
            "/webhooks/checkout": {"post": _webhook()},
            "/payments/{id}/refunds": {"post": _refund()},
        },
        "components": {"schemas": component_schemas(), "securitySchemes": SECURITY_SCHEMES},
    }


def main() -> None:
    print(json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False))


if __name__ == "__main__":
    main()
