"""Validates bodies against the derived schemas (``schemas.py``) with ``jsonschema`` (draft 2020-12),
keeping the two OpenAPI 3.0 semantics the published spec is written in:

- ``integer`` is a JSON integer: ``1.0`` is not one (draft 2020-12 alone would accept it);
- ``format`` asserts: ``date-time`` (RFC 3339, through ``rfc3339-validator``), ``email`` and
  ``uri``. For ``uri`` we check what every RFC 3986 URI has (a scheme, then ASCII without spaces or
  control characters), not the full grammar; the simulator's own check is stricter (absolute http(s)).
"""

from __future__ import annotations

from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError

from cko_sim.spec_schemas import OpenApiValidator as Validator
from cko_sim.spec_schemas import is_uri

# the simulator's rules (integer is a JSON integer, uri = a scheme then ASCII without spaces), plus
# date-time, which response bodies carry
FORMATS = FormatChecker(formats=("date-time", "email"))
FORMATS.checks("uri")(is_uri)


def errors(schema: dict[str, Any], instance: Any) -> list[ValidationError]:
    """Every way ``instance`` breaks ``schema``, ordered by where in the body."""
    found = Validator(schema, format_checker=FORMATS).iter_errors(instance)
    return sorted(found, key=lambda e: [str(p) for p in e.absolute_path])


def messages(found: list[ValidationError]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]
