"""openapi.json is a valid OpenAPI 3.1 document that says what the handlers do: who may call each
route (security schemes), which headers it reads, which statuses and error bodies it answers, and
examples that are valid instances of their own schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from qpay.api.openapi import document

ROOT = Path(__file__).resolve().parents[2]
DOC = document()
OPERATIONS = [(path, method, op) for path, ops in DOC["paths"].items() for method, op in ops.items()]


def op(path: str, method: str) -> dict[str, Any]:
    return dict(DOC["paths"][path][method])


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for ``schema`` whose ``#/components/...`` refs resolve inside the document."""
    return Draft202012Validator({**schema, "components": DOC["components"]})


def test_the_committed_document_and_the_generated_one_are_valid_openapi_3_1() -> None:
    committed = json.loads((ROOT / "openapi.json").read_text())
    validate(committed)  # raises on an invalid document or a $ref that points nowhere
    validate(DOC)
    assert committed["openapi"].startswith("3.1")


def test_every_ref_names_a_component() -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(DOC)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in DOC["components"]["schemas"], ref
    text = json.dumps(DOC)
    assert "$defs" not in text
    assert "HTTPValidationError" not in text


def test_security_schemes() -> None:
    schemes = DOC["components"]["securitySchemes"]
    assert schemes["merchantKey"] == {**schemes["merchantKey"], "type": "http", "scheme": "bearer"}
    assert (schemes["orderToken"]["type"], schemes["orderToken"]["in"], schemes["orderToken"]["name"]) == (
        "apiKey",
        "header",
        "X-Order-Token",
    )
    for claim in ("HS256", "kid", "reference", "amount", "currency", "exp", "aud", "qpay-payments", "jti"):
        assert claim in schemes["orderToken"]["description"], claim
    assert (schemes["clientSecret"]["in"], schemes["clientSecret"]["name"]) == ("header", "X-Client-Secret")
    sigv4 = schemes["sigv4"]
    assert (sigv4["type"], sigv4["in"], sigv4["name"]) == ("apiKey", "header", "Authorization")
    assert sigv4["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert "execute-api:Invoke" in sigv4["description"]
    assert "/POST/payments/*/refunds" in sigv4["description"]


@pytest.mark.parametrize(
    ("path", "method", "security"),
    [
        ("/payments", "post", [{"merchantKey": []}, {"orderToken": []}]),
        ("/payments/{id}", "get", [{"merchantKey": []}, {"clientSecret": []}]),
        ("/payments/{id}/refunds", "post", [{"sigv4": []}]),
        ("/webhooks/checkout", "post", []),
        ("/payments/return/success", "get", []),
        ("/payments/return/failure", "get", []),
    ],
)
def test_per_operation_security(path: str, method: str, security: list[dict[str, list[str]]]) -> None:
    assert op(path, method)["security"] == security


def headers(path: str, method: str) -> dict[str, bool]:
    return {p["name"]: p["required"] for p in op(path, method).get("parameters", []) if p["in"] == "header"}


def test_headers_are_declared() -> None:
    assert headers("/payments", "post") == {"Idempotency-Key": False, "X-Order-Token": False}
    assert headers("/payments/{id}", "get") == {"X-Client-Secret": False}
    assert headers("/payments/{id}/refunds", "post") == {"Idempotency-Key": True}
    assert headers("/webhooks/checkout", "post") == {"Cko-Signature": True}
    created = op("/payments", "post")["responses"]["201"]["headers"]
    assert set(created) == {"Location", "Idempotent-Replayed"}
    assert "Idempotent-Replayed" in op("/payments/{id}/refunds", "post")["responses"]["202"]["headers"]


def error_codes(path: str, method: str) -> dict[str, set[str]]:
    """status → the error ``code`` values its examples show."""
    out: dict[str, set[str]] = {}
    for status, response in op(path, method)["responses"].items():
        for media in response.get("content", {}).values():
            for example in media.get("examples", {}).values():
                value = example["value"]
                if isinstance(value, dict) and "code" in value:
                    out.setdefault(status, set()).add(value["code"])
    return out


def test_the_real_statuses_and_error_codes_per_route() -> None:
    assert error_codes("/payments", "post") == {
        "400": {"malformed_body"},
        "401": {"unauthorized"},
        "403": {"forbidden"},
        "409": {"conflict"},
        "413": {"payload_too_large"},
        "422": {"validation_failed"},
        "500": {"internal_error"},
        "502": {"checkout_rejected"},
        "503": {"checkout_unavailable", "service_misconfigured"},
    }
    assert error_codes("/payments/{id}", "get") == {
        "401": {"unauthorized"},
        "404": {"not_found"},
        "500": {"internal_error"},
        "503": {"service_misconfigured"},
    }
    assert error_codes("/webhooks/checkout", "post") == {
        "401": {"unauthorized"},
        "409": {"not_yet"},
        "413": {"payload_too_large"},
        "422": {"validation_failed"},
        "500": {"internal_error"},
        "503": {"service_misconfigured"},
    }
    assert error_codes("/payments/{id}/refunds", "post") == {
        "400": {"malformed_body"},
        "404": {"not_found"},
        "409": {"conflict", "not_refundable"},
        "413": {"payload_too_large"},
        "422": {"validation_failed", "amount_exceeds_balance"},
        "500": {"internal_error"},
        "503": {"checkout_unavailable"},
    }
    refund_403 = op("/payments/{id}/refunds", "post")["responses"]["403"]["content"]["application/json"]
    assert refund_403["schema"] == {"$ref": "#/components/schemas/GatewayError"}
    assert set(op("/payments/return/success", "get")["responses"]) == {"303", "429"}


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_examples_are_valid_instances_of_their_schemas(path: str, method: str, operation: dict[str, Any]) -> None:
    media_types = [("request", operation["requestBody"]["content"])] if "requestBody" in operation else []
    media_types += [(status, r.get("content", {})) for status, r in operation["responses"].items()]
    seen: set[str] = set()
    for where, content in media_types:
        for media in content.values():
            validator = schema_validator(media["schema"])
            for name, example in media.get("examples", {}).items():
                errors = [e.message for e in validator.iter_errors(example["value"])]
                assert errors == [], (where, name, errors)
                seen.add(where)
    if "requestBody" in operation:
        assert "request" in seen
    answered = [s for s in operation["responses"] if s.startswith("2")]
    assert all(s in seen for s in answered), (answered, seen)  # every JSON success has its example


def test_request_schemas_are_the_validation_rules() -> None:
    create = DOC["components"]["schemas"]["CreatePaymentRequest"]
    assert set(create["required"]) == {"reference", "amount", "currency", "description", "national_id"}
    assert create["additionalProperties"] is False
    assert create["properties"]["amount"]["type"] == "integer"
    assert "minor units" in create["properties"]["amount"]["description"].lower()
    assert create["properties"]["national_id"]["writeOnly"] is True
    view = DOC["components"]["schemas"]["PaymentView"]
    assert "national_id" not in view["properties"]
