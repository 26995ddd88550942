"""The stdlib attribute-value conversion agrees with boto3's TypeSerializer on everything the store writes."""

from __future__ import annotations

from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from qpay.adapters.dynamo import from_ddb, to_ddb

scalars = st.one_of(st.text(max_size=20), st.integers(-(2**53), 2**53), st.booleans(), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(item=st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=6))
def test_round_trip_and_boto3_agreement(item: dict) -> None:
    ours = to_ddb(item)
    expected = {k: TypeSerializer().serialize(v) for k, v in item.items() if v is not None}
    assert ours == expected
    back = from_ddb(ours)
    assert back == {k: v for k, v in item.items() if v is not None}
    theirs = {k: TypeDeserializer().deserialize(v) for k, v in expected.items()}
    assert back == _plain(theirs)


def _plain(value):
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
