"""JSON Schemas (draft 2020-12) for the Checkout.com API responses and requests the simulator serves,
derived by this project from Checkout's published OpenAPI (MIT licensed; see README.md here).

Written by us, not copied: each schema keeps only the fields QPay uses and, for those, the type,
enum, ``required`` list, ``format`` and limits the published file defines. Every schema node that
comes from a published file names it in ``$comment`` (repository, commit, path), so the derivation
can be checked against the published file (``test_schemas_derived.py``, when a copy is at hand).

Project decisions, each marked ``ours`` where it appears:

- Response objects are closed (``additionalProperties: false``): the published objects are open,
  but ours list only the fields we derived, so a field the simulator sends that we have not derived
  from a published source fails instead of passing unchecked. Request objects stay open, as
  published: Checkout accepts fields it does not know, and so must the simulator.
- ``SIMULATOR_EXTENSIONS``: the three response fields the simulator sends that the 2021 schemas do
  not define, each with its source.
- ``ERRATA``: the three places where the published schema is wrong or unusable, and our correction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cko_sim import spec_schemas

Schema = dict[str, Any]

#: Checkout's API reference repository and the commit the schemas are derived from (2021-07-20).
REPO = "checkout/checkout-api-reference"
COMMIT = "2fc946cd22e9a6b8e3a33db3c5f4be4d3fe7d74c"
#: The bundled spec of the same repository, for the components the 2021 tree keeps elsewhere.
BUNDLED_COMMIT = "9ec49d47a84f5ce9f2421dcce46f202abaf8d3c0"
#: "Get payment lists" is later than 2021: a Checkout engineer's fork of the same repository.
FORK = "kevin-reece-cko/checkout-api-reference"
FORK_OPERATION_COMMIT = "142121b4f57681014dbc6b889ad9b6ff88fd58f8"
FORK_SCHEMA_COMMIT = "7b819bea0632721c41b2bfea5253db3822c44413"

NAS = "nas_spec/components/schemas/"
PAYMENTS = NAS + "Payments/"
ABC_PAYMENTS = "abc_spec/components/schemas/Payments/"
OURS = "ours: "


def cite(path: str, repo: str = REPO, commit: str = COMMIT) -> str:
    """A ``$comment`` naming one published source: ``derived from <repo>@<commit>:<path>``."""
    return f"derived from {repo}@{commit}:{path}"


def cites(*paths: str) -> str:
    return "; ".join(cite(p) for p in paths)


def _closed(schema: Schema) -> Schema:
    """A response object that refuses fields we have not derived (ours; see the module docstring)."""
    return {**schema, "additionalProperties": False}


# --- shared pieces -------------------------------------------------------------------------------

# nas_spec/components/schemas/Payments/PaymentId.yaml @ 2fc946c
PAYMENT_ID: Schema = {
    "$comment": cite(PAYMENTS + "PaymentId.yaml"),
    "type": "string",
    "pattern": r"^(pay)_(\w{26})$",
    "minLength": 30,
    "maxLength": 30,
}

# nas_spec/components/schemas/Payments/ActionId.yaml @ 2fc946c
ACTION_ID: Schema = {
    "$comment": cite(PAYMENTS + "ActionId.yaml"),
    "type": "string",
    "pattern": r"^(act)_(\w{26})$",
    "minLength": 30,
    "maxLength": 30,
}

# ServerTimestamp: referenced by the 2021 files, defined in a file no stored copy holds; the rendered
# reference gives it as an ISO 8601 date-time set by the server.
SERVER_TIMESTAMP: Schema = {
    "$comment": OURS + "ServerTimestamp (referenced, not defined, in the 2021 files): an ISO 8601 date-time",
    "type": "string",
    "format": "date-time",
}

# Link: referenced by every _links object of the 2021 files, defined in a file no stored copy holds;
# the rendered reference gives it as {href}.
LINK: Schema = _closed(
    {
        "$comment": OURS + "Link (referenced, not defined, in the 2021 files): a HAL link {href}",
        "type": "object",
        "required": ["href"],
        "properties": {"href": {"type": "string"}},
    }
)

# The currency of every payment schema below (a three-letter ISO 4217 code).
CURRENCY: Schema = {"type": "string", "minLength": 3, "maxLength": 3}

PAYMENT_TYPES = ["Regular", "Recurring", "MOTO", "Installment"]

# nas_spec/components/schemas/Payments/PaymentResponseBalances.yaml @ 2fc946c (erratum: no `required`)
BALANCES: Schema = _closed(
    {
        "$comment": cite(PAYMENTS + "PaymentResponseBalances.yaml"),
        "type": "object",
        "properties": {
            name: {"type": "integer"}
            for name in (
                "total_authorized",
                "total_voided",
                "available_to_void",
                "total_captured",
                "available_to_capture",
                "total_refunded",
                "available_to_refund",
            )
        },
    }
)

# The customer object inlined in PaymentDetails.yaml and Payment.yaml @ 2fc946c (no $comment: it is
# part of the schema that contains it).
CUSTOMER_INLINE: Schema = _closed(
    {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "pattern": r"^(cus)_(\w{26})$"},
            "email": {"type": "string"},
            "name": {"type": "string"},
        },
    }
)

# CustomerResponse in output/swagger.json @ 9ec49d4, which PaymentAcceptedResponse.yaml @ 2fc946c
# references: the same constraints as the inline object.
CUSTOMER_RESPONSE: Schema = {
    "$comment": cite("output/swagger.json#/components/schemas/CustomerResponse", commit=BUNDLED_COMMIT),
    **CUSTOMER_INLINE,
}

# A QPay payment's response `source`: nas_spec PaymentResponseSource.yaml (`type` required) with
# abc_spec PaymentResponseQPaySource.yaml (`description` required; the QPay fields), both @ 2fc946c.
QPAY_RESPONSE_SOURCE: Schema = _closed(
    {
        "$comment": cites(
            PAYMENTS + "PaymentResponseSource.yaml",
            PAYMENTS + "PaymentDetailsResponseSource.yaml",
            ABC_PAYMENTS + "ResponseSources/PaymentResponseQPaySource.yaml",
        ),
        "type": "object",
        "required": ["type", "description"],
        "properties": {
            # ours: the published `type` is any string; a QPay source's discriminator value is "qpay"
            "type": {"type": "string", "const": "qpay"},
            "description": {"type": "string"},
            "qpay_status": {"type": "string"},
            "status_message": {"type": "string"},
            "confirmation_id": {"type": "string"},
            "pun": {"type": "string"},  # SIMULATOR_EXTENSIONS
        },
    }
)

# nas_spec/components/schemas/Payments/PaymentActionSummary.yaml @ 2fc946c
ACTION_SUMMARY: Schema = _closed(
    {
        "$comment": cite(PAYMENTS + "PaymentActionSummary.yaml"),
        "type": "object",
        "required": ["id", "type", "response_code"],
        "properties": {
            "id": ACTION_ID,
            "type": {"type": "string", "enum": ["Authorization", "Card Verification", "Void", "Capture", "Refund"]},
            "response_code": {"type": "string"},
            "response_summary": {"type": "string"},
        },
    }
)


# --- GET /payments/{id} and the items of GET /payments -------------------------------------------

PAYMENT_STATUSES = [
    "Pending",
    "Authorized",
    "Card Verified",
    "Voided",
    "Partially Captured",
    "Captured",
    "Partially Refunded",
    "Refunded",
    "Declined",
    "Canceled",
    "Expired",
    "Paid",
]


def _payment(comment: str, statuses: list[str]) -> Schema:
    """The payment object of PaymentDetails.yaml and Payment.yaml (identical for the fields QPay uses
    but the status enum). Omitted, as card/payout-only: destination, 3ds, billing_descriptor,
    shipping, payment_ip, sender, marketplace, recipient, eci, scheme_id; _links authorize/void/capture."""
    return _closed(
        {
            "$comment": comment,
            "type": "object",
            "required": ["id", "requested_on", "amount", "currency", "status", "approved", "_links"],
            "properties": {
                "id": PAYMENT_ID,
                "requested_on": SERVER_TIMESTAMP,
                "source": QPAY_RESPONSE_SOURCE,
                "amount": {"type": "integer"},
                "currency": CURRENCY,
                "payment_type": {"type": "string", "enum": PAYMENT_TYPES},
                "reference": {"type": "string"},
                "description": {"type": "string"},
                "approved": {"type": "boolean"},
                "expires_on": {"type": "string"},
                "status": {"type": "string", "enum": statuses},
                "balances": BALANCES,
                "risk": _closed({"type": "object", "properties": {"flagged": {"type": "boolean"}}}),
                "customer": CUSTOMER_INLINE,
                "metadata": {"type": "object"},
                "actions": {"type": "array", "items": ACTION_SUMMARY},
                "_links": _closed(
                    {
                        "type": "object",
                        "required": ["self", "actions"],
                        "properties": {
                            "self": LINK,
                            "actions": LINK,
                            "refund": LINK,
                            "redirect": LINK,  # SIMULATOR_EXTENSIONS
                        },
                    }
                ),
                "processing_channel_id": {"type": "string"},  # SIMULATOR_EXTENSIONS
            },
        }
    )


# nas_spec/components/schemas/Payments/PaymentDetails.yaml @ 2fc946c (erratum 3 chooses it)
PAYMENT_DETAILS: Schema = _payment(cite(PAYMENTS + "PaymentDetails.yaml"), PAYMENT_STATUSES)

# nas_spec/components/schemas/Payments/Payment.yaml @ 2fc946c (erratum 2: + Expired)
PAYMENT_LIST_ITEM: Schema = _payment(
    cite(PAYMENTS + "Payment.yaml"), [s for s in PAYMENT_STATUSES if s != "Expired"] + ["Expired"]
)

# nas_spec/components/schemas/Payments/PaymentPaged.yaml @ 7b819be of the fork (absent in 2021)
PAYMENT_PAGED: Schema = _closed(
    {
        "$comment": cite(PAYMENTS + "PaymentPaged.yaml", repo=FORK, commit=FORK_SCHEMA_COMMIT),
        "type": "object",
        "properties": {
            "limit": {"type": "integer"},
            "skip": {"type": "integer"},
            "total_count": {"type": "integer"},
            "data": {"type": "array", "items": PAYMENT_LIST_ITEM},
        },
    }
)


# --- other responses -----------------------------------------------------------------------------

# nas_spec/components/schemas/Payments/PaymentAcceptedResponse.yaml @ 2fc946c (3ds and instruction
# omitted: card and payout only)
PAYMENT_ACCEPTED: Schema = _closed(
    {
        "$comment": cite(PAYMENTS + "PaymentAcceptedResponse.yaml"),
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": PAYMENT_ID,
            "status": {"type": "string", "enum": ["Pending"]},
            "reference": {"type": "string"},
            "customer": CUSTOMER_RESPONSE,
            "_links": _closed({"type": "object", "required": ["self"], "properties": {"self": LINK, "redirect": LINK}}),
        },
    }
)

# nas_spec/components/schemas/Payments/PaymentAction.yaml @ 2fc946c (auth_code and
# authorization_type omitted: card only)
PAYMENT_ACTION: Schema = _closed(
    {
        "$comment": cite(PAYMENTS + "PaymentAction.yaml"),
        "type": "object",
        "required": ["id", "type", "amount", "response_code", "processed_on"],
        "properties": {
            "id": ACTION_ID,
            "type": {
                "type": "string",
                "enum": ["Authorization", "Card Verification", "Void", "Capture", "Refund", "Payout", "Return"],
            },
            "processed_on": SERVER_TIMESTAMP,
            "amount": {"type": "integer"},
            "approved": {"type": "boolean"},
            "response_code": {"type": "string"},
            "response_summary": {"type": "string"},
            "reference": {"type": "string"},
            "processing": _closed(
                {
                    "type": "object",
                    "properties": {
                        "retrieval_reference_number": {"type": "string"},
                        "acquirer_reference_number": {"type": "string"},
                        "acquirer_transaction_id": {"type": "string"},
                    },
                }
            ),
            "metadata": {"type": "object"},
        },
    }
)

# nas_spec/components/schemas/Payments/PaymentActionsResponse.yaml @ 2fc946c
PAYMENT_ACTIONS: Schema = {
    "$comment": cite(PAYMENTS + "PaymentActionsResponse.yaml"),
    "type": "array",
    "items": PAYMENT_ACTION,
    "minItems": 1,
}

# nas_spec/components/schemas/Payments/RefundAcceptedResponse.yaml @ 2fc946c
REFUND_ACCEPTED: Schema = _closed(
    {
        "$comment": cite(PAYMENTS + "RefundAcceptedResponse.yaml"),
        "type": "object",
        "required": ["action_id"],
        "properties": {
            "action_id": ACTION_ID,
            "reference": {"type": "string"},
            "_links": _closed({"type": "object", "required": ["payment"], "properties": {"payment": LINK}}),
        },
    }
)

# nas_spec/components/schemas/ValidationError.yaml @ 2fc946c
VALIDATION_ERROR: Schema = _closed(
    {
        "$comment": cite(NAS + "ValidationError.yaml"),
        "type": "object",
        "properties": {
            "request_id": {"type": "string"},
            "error_type": {"type": "string"},
            "error_codes": {"type": "array", "items": {"type": "string"}},
        },
    }
)

# PagingError in output/swagger.json @ 9ec49d4 (the 422 of "Get payment lists": ValidationError's shape)
PAGING_ERROR: Schema = {
    **VALIDATION_ERROR,
    "$comment": cite("output/swagger.json#/components/schemas/PagingError", commit=BUNDLED_COMMIT),
}

# nas_spec/components/schemas/Error.yaml @ 2fc946c
ERROR: Schema = _closed(
    {
        "$comment": cite(NAS + "Error.yaml"),
        "type": "object",
        "properties": {"request_id": {"type": "string"}, "error_type": {"type": "string"}},
    }
)

#: The body of a status no path file publishes (a fault, the in-flight conflict): Checkout's generic
#: error, with or without error codes.
ANY_ERROR: Schema = {"$comment": OURS + "Error or ValidationError", "anyOf": [ERROR, VALIDATION_ERROR]}


# --- requests (open objects, as published) -------------------------------------------------------

# The request schemas are not written here: they are derived mechanically from the published files by
# `python -m cko_sim.spec_derive` (sandbox/cko_sim/spec/*.json) and the simulator validates every request
# with the same files, so the simulator and these tests share one source. `test_schemas_derived.py`
# regenerates them from the spec copy and compares, and checks each node against the file it cites.
#
# PAYMENT_REQUEST: nas_spec/components/schemas/Payments/PaymentRequest.yaml @ 2fc946c, the fields a QPay
# payment sends, with `source` as the QPay source: nas_spec PaymentRequestSource.yaml (`type` required)
# with abc_spec RequestSources/PaymentRequestQPaySource.yaml (the 2021 NAS discriminator mapping predates
# QPay), and `customer` as CustomerRequest of output/swagger.json @ 9ec49d4. The published description
# limit (255 characters after UTF-8 URL encoding) is prose, not a schema keyword: the simulator enforces
# it as a second layer (tests/simulator/test_sim_validation.py).
PAYMENT_REQUEST: Schema = spec_schemas.PAYMENT_REQUEST
QPAY_REQUEST_SOURCE: Schema = PAYMENT_REQUEST["properties"]["source"]
CUSTOMER_REQUEST: Schema = PAYMENT_REQUEST["properties"]["customer"]
# REFUND_REQUEST: nas_spec/components/schemas/Payments/RefundRequest.yaml @ 2fc946c
REFUND_REQUEST: Schema = spec_schemas.REFUND_REQUEST


# --- operations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """The responses a path file publishes: status -> body schema, or ``None`` where it publishes no
    body (Checkout answers those with an empty body or its generic error)."""

    source: str
    responses: dict[int, Schema | None]
    #: Published statuses this project does not derive, and why (a QPay payment never gets them).
    not_derived: tuple[tuple[int, str], ...] = ()


OPERATIONS: dict[str, Operation] = {
    "POST /payments": Operation(
        cite("nas_spec/paths/payments.yaml") + " (post)",
        {202: PAYMENT_ACCEPTED, 401: None, 422: VALIDATION_ERROR, 429: VALIDATION_ERROR, 502: None},
        not_derived=((201, "PaymentResponse: a synchronous (card) outcome; a QPay payment is always 202 Pending"),),
    ),
    "GET /payments": Operation(
        cite("nas_spec/paths/payments.yaml", repo=FORK, commit=FORK_OPERATION_COMMIT) + " (get: Get payment lists)",
        {200: PAYMENT_PAGED, 401: None, 422: PAGING_ERROR},
    ),
    "GET /payments/{id}": Operation(
        cite("nas_spec/paths/payments@{id}.yaml") + " (get)", {200: PAYMENT_DETAILS, 401: None, 404: None}
    ),
    "GET /payments/{id}/actions": Operation(
        cite("nas_spec/paths/payments@{id}@actions.yaml") + " (get)", {200: PAYMENT_ACTIONS, 401: None, 404: None}
    ),
    "POST /payments/{id}/refunds": Operation(
        cite("nas_spec/paths/payments@{id}@refunds.yaml") + " (post)",
        {202: REFUND_ACCEPTED, 401: None, 403: None, 404: None, 422: VALIDATION_ERROR, 502: None},
    ),
}


# --- where we differ from the published text -----------------------------------------------------


@dataclass(frozen=True)
class Erratum:
    source: str  # path in REPO @ COMMIT
    where: str  # the keyword, as a JSON pointer into that file
    published: Any
    ours: Any
    reason: str


ERRATA: tuple[Erratum, ...] = (
    Erratum(
        PAYMENTS + "PaymentResponseBalances.yaml",
        "/required",
        ["id"],
        None,
        "a balances object has no id: the schema defines no `id` property and no published example of "
        "`balances` (payment details, the payment_captured webhook) carries one",
    ),
    Erratum(
        PAYMENTS + "Payment.yaml",
        "/properties/status/enum",
        [s for s in PAYMENT_STATUSES if s != "Expired"],
        [s for s in PAYMENT_STATUSES if s != "Expired"] + ["Expired"],
        "the list item (GET /payments?reference=) omits Expired while PaymentDetails (GET /payments/{id}) "
        "lists it for the same payment; QPay payments do expire",
    ),
    Erratum(
        "nas_spec/paths/payments@{id}.yaml",
        "/get/responses/200/content/application~1json/schema/oneOf",
        ["PaymentDetails", "PayoutDetails"],
        "PaymentDetails",
        "oneOf PaymentDetails/PayoutDetails has no discriminator and PayoutDetails requires nothing, so "
        "every Pending or Declined payment matches both branches and a literal oneOf refuses it; a "
        "payment (not a payout) is described by PaymentDetails",
    ),
)

#: Response fields the simulator sends that the 2021 schemas do not define, as paths inside the
#: payment object of GET /payments/{id} (and of each item of GET /payments), with their source.
SIMULATOR_EXTENSIONS: dict[str, str] = {
    "source.pun": "QPay's payment unique number; Checkout's QPay page (29 Apr 2022) shows it in the redirect "
    "URL, and the fidelity review (E1, E6) lists it in the response source",
    "_links.redirect": "a pending QPay payment keeps the link the shopper is sent to (fidelity review E1, as "
    "in PaymentAcceptedResponse); the product reads it",
    "processing_channel_id": "the request's processing channel, echoed back; the product does not read it",
}

#: Every schema a response or request is validated against, by name (for the meta-schema test).
ALL: dict[str, Schema] = {
    "PAYMENT_ACCEPTED": PAYMENT_ACCEPTED,
    "PAYMENT_DETAILS": PAYMENT_DETAILS,
    "PAYMENT_PAGED": PAYMENT_PAGED,
    "PAYMENT_ACTIONS": PAYMENT_ACTIONS,
    "REFUND_ACCEPTED": REFUND_ACCEPTED,
    "VALIDATION_ERROR": VALIDATION_ERROR,
    "PAGING_ERROR": PAGING_ERROR,
    "ERROR": ERROR,
    "ANY_ERROR": ANY_ERROR,
    "PAYMENT_ID": PAYMENT_ID,
    "ACTION_ID": ACTION_ID,
    "PAYMENT_REQUEST": PAYMENT_REQUEST,
    "REFUND_REQUEST": REFUND_REQUEST,
}
