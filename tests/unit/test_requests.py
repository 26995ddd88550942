"""The run-time request parsers (qpay.api.requests, standard library) against their specification, the
pydantic models (qpay.api.models) the OpenAPI document is generated from: for any body, both accept it
or both refuse it, naming the same fields, and an accepted body reads the same."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from qpay.api.models import CreatePaymentRequest, RefundRequest
from qpay.api.requests import fingerprint_document, parse_create, parse_refund
from qpay.domain.errors import ValidationFailed

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)  # fmt: skip


def _maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A valid value most of the time, anything JSON can hold otherwise."""
    return st.one_of(valid, valid, valid, ANY_JSON)


REFERENCE = _maybe(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,49}", fullmatch=True)) | st.sampled_from(
    ["", "-x", "a" * 51, "ORD 1", "ORD-١"]
)
DESCRIPTION = _maybe(st.text(min_size=1, max_size=60)) | st.sampled_from(
    ["ب" * 42, "ب" * 43, " ", "a\nb", "x" * 255, "x" * 256, "%" * 85, "%" * 86]
)
NATIONAL_ID = _maybe(st.from_regex(r"[A-Za-z0-9]{1,32}", fullmatch=True)) | st.sampled_from(
    ["", "x" * 33, "ab-1", "٣٤"]
)
CUSTOMER = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "email": _maybe(st.sampled_from(["a@b.qa", "shopper@example.com", "x" * 65 + "@b.qa", "no-at", "a@b"])),
            "name": _maybe(st.text(min_size=0, max_size=110)),
            "extra": ANY_JSON,
        },
    ),
    ANY_JSON,
)
METADATA = st.one_of(
    st.dictionaries(
        st.text(max_size=45) | st.sampled_from(["qpay_x", "k" * 40, "k" * 41]),
        _maybe(st.one_of(st.text(max_size=210), st.integers(), st.booleans())) | st.sampled_from([1.0, 1.5, "x" * 201]),
        max_size=12,
    ),
    ANY_JSON,
)
CREATE = st.fixed_dictionaries(
    {},
    optional={
        "reference": REFERENCE,
        "amount": _maybe(st.integers(1, 2**31 - 1)) | st.sampled_from([0, -1, 2**31, 12.0, True, "100"]),
        "currency": _maybe(st.just("QAR")) | st.sampled_from(["qar", "USD"]),
        "description": DESCRIPTION,
        "language": _maybe(st.sampled_from(["en", "ar"])) | st.sampled_from(["EN", "fr"]),
        "quantity": _maybe(st.integers(1, 999)) | st.sampled_from([0, 1000, 2.0, False]),
        "national_id": NATIONAL_ID,
        "customer": CUSTOMER,
        "metadata": METADATA,
        "surprise": ANY_JSON,
    },
)
REFUND = st.fixed_dictionaries(
    {},
    optional={
        "amount": st.one_of(st.none(), st.integers(-5, 2**31 + 5), st.sampled_from([1.0, True, "5"])),
        "reference": st.one_of(st.none(), st.text(max_size=85), ANY_JSON),
        "reason": st.one_of(st.none(), st.text(max_size=205), ANY_JSON),
        "other": ANY_JSON,
    },
)


def _pydantic_fields(exc: ValidationError) -> set[str]:
    out = set()
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        out.add("body" if not loc else loc[0] if loc[0] != "customer" or len(loc) < 2 else f"customer.{loc[1]}")
    return out


def _ours(exc: ValidationFailed) -> set[str]:
    return {"metadata" if d["field"].startswith("metadata.") else d["field"] for d in exc.details}


def _spec(model: Any, doc: Any) -> tuple[Any, set[str] | None]:
    """What the pydantic model says: (the model, None) or (None, the fields it names)."""
    try:
        return model.model_validate(doc), None
    except ValidationError as exc:
        return None, _pydantic_fields(exc)


def _refused(parse: Any, doc: Any) -> set[str] | None:
    try:
        parse(doc)
    except ValidationFailed as exc:
        return _ours(exc)
    return None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=CREATE | ANY_JSON)
def test_create_parser_agrees_with_the_model(doc: Any) -> None:
    model, named = _spec(CreatePaymentRequest, doc)
    assert _refused(parse_create, doc) == named, doc
    if model is not None:
        expected = model.model_dump(mode="json", exclude={"national_id"})
        expected["national_id"] = model.national_id.get_secret_value()
        assert fingerprint_document(parse_create(doc)) == expected


@settings(max_examples=600, deadline=None)
@given(doc=REFUND | ANY_JSON)
def test_refund_parser_agrees_with_the_model(doc: Any) -> None:
    model, named = _spec(RefundRequest, doc)
    assert _refused(parse_refund, doc) == named, doc
    if model is not None:
        parsed = parse_refund(doc)
        assert (parsed.amount, parsed.reference, parsed.reason) == (model.amount, model.reference, model.reason)


def test_every_problem_is_named_at_once_without_echoing_the_input() -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_create({"amount": "125.00", "currency": "qar", "national_id": "29999000042 x", "extra": 1})
    named = {d["field"]: d["issue"] for d in info.value.details}
    assert set(named) == {"reference", "amount", "currency", "description", "national_id", "extra"}
    assert named["amount"] == "must be a whole number (minor units)"
    assert named["currency"] == "must be QAR"
    assert named["national_id"] == "must be 1-32 letters or digits"
    assert "29999000042" not in str(info.value.details)


def test_defaults_and_the_national_id_stays_out_of_repr() -> None:
    parsed = parse_create(
        {"reference": "ORD-1", "amount": 1, "currency": "QAR", "description": "Tea", "national_id": "29999000042"}
    )
    assert (parsed.language, parsed.quantity, parsed.customer, parsed.metadata) == ("en", 1, None, {})
    assert "29999000042" not in repr(parsed)
