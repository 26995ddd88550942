"""Validates bodies against the derived schemas (``schemas.py``) with ``jsonschema`` (draft 2020-12),
keeping the two OpenAPI 3.0 semantics the published spec is written in:

- ``integer`` is a JSON integer: ``1.0`` is not one (draft 2020-12 alone would accept it);
- ``format`` asserts: ``date-time`` (RFC 3339, through ``rfc3339-validator``), ``email`` and
  ``uri``. For ``uri`` we check what every RFC 3986 URI has (a scheme, then ASCII without spaces or
  control characters), not the full grammar; the simulator's own check is stricter (absolute http(s)).
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _is_integer(_checker: Any, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


FORMATS = FormatChecker(formats=("date-time", "email"))


def _is_uri(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not instance.isascii() or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in instance):
        return False
    return bool(_SCHEME.match(instance))


FORMATS.checks("uri")(_is_uri)


Validator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


def errors(schema: dict[str, Any], instance: Any) -> list[ValidationError]:
    """Every way ``instance`` breaks ``schema``, ordered by where in the body."""
    found = Validator(schema, format_checker=FORMATS).iter_errors(instance)
    return sorted(found, key=lambda e: [str(p) for p in e.absolute_path])


def messages(found: list[ValidationError]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]
