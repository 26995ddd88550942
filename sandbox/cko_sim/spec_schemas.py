"""The request schemas derived from Checkout's published OpenAPI, and the validator that applies them.

``spec/payment_request.json`` and ``spec/refund_request.json`` are written by ``cko_sim.spec_derive``
from ``checkout/checkout-api-reference`` at ``2fc946c`` (``PaymentRequest.yaml`` with the QPay source,
``RefundRequest.yaml``) and checked against it by ``tests/contracts/test_schemas_derived.py``. The
contract tests validate with the same files (``tests/contracts/schemas.py``): one source, not two.

Validation keeps the OpenAPI 3.0 semantics the spec is written in: ``integer`` is a JSON integer (``1.0``
and ``true`` are not), and ``format`` asserts: ``email`` (an ``@``, as ``jsonschema`` checks it) and
``uri`` (a scheme, then ASCII without spaces or control characters: what every RFC 3986 URI has).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators

SPEC_DIR = Path(__file__).resolve().parent / "spec"


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((SPEC_DIR / name).read_text(encoding="utf-8")))


PAYMENT_REQUEST: dict[str, Any] = _load("payment_request.json")
REFUND_REQUEST: dict[str, Any] = _load("refund_request.json")

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def is_json_integer(_checker: Any, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


def is_uri(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not instance.isascii() or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in instance):
        return False
    return bool(_SCHEME.match(instance))


FORMATS = FormatChecker(formats=("email",))
FORMATS.checks("uri")(is_uri)

OpenApiValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", is_json_integer),
)
PAYMENT_VALIDATOR = OpenApiValidator(PAYMENT_REQUEST, format_checker=FORMATS)
REFUND_VALIDATOR = OpenApiValidator(REFUND_REQUEST, format_checker=FORMATS)


@dataclass(frozen=True)
class Violation:
    """A field the published schema refuses: its path in the body, and whether it is missing or invalid."""

    path: tuple[str | int, ...]
    missing: bool


def violations(validator: Any, body: Any) -> list[Violation]:
    """Every field of ``body`` the schema refuses, each once, in the order the validator reports them."""
    found: dict[tuple[str | int, ...], Violation] = {}
    for error in validator.iter_errors(body):
        path = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    found.setdefault((*path, name), Violation((*path, name), missing=True))
        else:
            found.setdefault(path, Violation(path, missing=False))
    return list(found.values())
