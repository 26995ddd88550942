"""Lambda event filtering (the EventBridge pattern syntax Lambda applies to event source records).

Rules implemented, as documented for Lambda event filtering:

- a pattern is an object; every key in it must match (AND), nested objects match nested fields;
- a leaf is a list of alternatives (OR): a string/number/bool/null matches equal values
  (numbers compare numerically), or an operator object: ``prefix``, ``suffix``,
  ``equals-ignore-case``, ``anything-but`` (a value, a list, or ``{"prefix"|"suffix": ...}``),
  ``numeric`` (``[">", 0, "<=", 5]``, ``["=", 3]``), ``exists`` (true/false), ``wildcard``;
- if the event's value is a list, it matches when any element matches;
- ``"$or": [pattern, ...]`` matches when any sub-pattern matches;
- a record passes a set of filters when it matches any one of them.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from typing import Any

_MISSING = object()


def parse_filters(filter_criteria: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """``FilterCriteria`` (``{"Filters": [{"Pattern": "<json>"}]}``) → list of pattern objects."""
    if not filter_criteria:
        return []
    patterns: list[dict[str, Any]] = []
    for f in filter_criteria.get("Filters", []):
        raw = f.get("Pattern")
        pattern = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(pattern, dict):
            raise ValueError(f"filter pattern must be a JSON object: {raw!r}")
        patterns.append(pattern)
    return patterns


def matches_any(record: Mapping[str, Any], patterns: Iterable[Mapping[str, Any]]) -> bool:
    """True if there are no filters, or the record matches at least one."""
    pats = list(patterns)
    return not pats or any(matches(record, p) for p in pats)


def matches(event: Any, pattern: Mapping[str, Any]) -> bool:
    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(event, sub) for sub in rule):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(rule, Mapping):
            if value is _MISSING or not isinstance(value, Mapping) or not matches(value, rule):
                return False
        elif isinstance(rule, list):
            if not _leaf(value, rule):
                return False
        else:
            raise ValueError(f"invalid pattern at {key!r}: leaves must be lists, got {rule!r}")
    return True


def _leaf(value: Any, alternatives: list[Any]) -> bool:
    for alt in alternatives:
        if isinstance(alt, Mapping) and "exists" in alt:
            if bool(alt["exists"]) == (value is not _MISSING):
                return True
            continue
        if value is _MISSING:
            continue
        candidates = value if isinstance(value, list) else [value]
        if any(_one(v, alt) for v in candidates):
            return True
    return False


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _equal(v: Any, alt: Any) -> bool:
    if _is_number(v) and _is_number(alt):
        return float(v) == float(alt)
    if isinstance(v, bool) or isinstance(alt, bool) or v is None or alt is None:
        return v is alt
    return type(v) is type(alt) and bool(v == alt)


def _one(v: Any, alt: Any) -> bool:
    if not isinstance(alt, Mapping):
        return _equal(v, alt)
    ((op, arg),) = alt.items()
    if op == "prefix":
        if isinstance(arg, Mapping):
            return isinstance(v, str) and v.lower().startswith(str(arg["equals-ignore-case"]).lower())
        return isinstance(v, str) and v.startswith(arg)
    if op == "suffix":
        if isinstance(arg, Mapping):
            return isinstance(v, str) and v.lower().endswith(str(arg["equals-ignore-case"]).lower())
        return isinstance(v, str) and v.endswith(arg)
    if op == "equals-ignore-case":
        return isinstance(v, str) and v.lower() == str(arg).lower()
    if op == "wildcard":
        return isinstance(v, str) and fnmatch.fnmatchcase(v, str(arg))
    if op == "anything-but":
        if isinstance(arg, Mapping):
            return not _one(v, arg)
        excluded = arg if isinstance(arg, list) else [arg]
        return not any(_equal(v, e) for e in excluded)
    if op == "numeric":
        return _numeric(v, arg)
    raise ValueError(f"unsupported filter operator {op!r}")


def _numeric(v: Any, spec: list[Any]) -> bool:
    if not _is_number(v):
        return False
    x = float(v)
    ops = {
        "=": lambda a: x == a,
        "<": lambda a: x < a,
        "<=": lambda a: x <= a,
        ">": lambda a: x > a,
        ">=": lambda a: x >= a,
    }
    for i in range(0, len(spec), 2):
        op, bound = spec[i], spec[i + 1]
        if op not in ops or not _is_number(bound):
            raise ValueError(f"invalid numeric filter {spec!r}")
        if not ops[op](float(bound)):
            return False
    return True
