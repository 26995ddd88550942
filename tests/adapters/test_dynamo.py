"""The botocore client's bounded settings and the attribute-value conversion beyond what the store's
round trip exercises (numbers that are not whole, sets, binary, the types refused)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from qpay.adapters import dynamo
from qpay.adapters.dynamo import cancellation_reasons, error_code, from_ddb, plain, to_ddb, val


def test_the_client_has_bounded_timeouts_and_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "me-central-1")
    dynamo.forget_session()
    config = dynamo.make_client()._client_config
    assert (config.connect_timeout, config.read_timeout) == (1, 3)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert config.tcp_keepalive is True
    # client-side validation is off: an unknown parameter reaches the serialiser instead of being refused
    # with ParamValidationError (botocore's config object still reads True; the client is built without it)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    with pytest.raises(Exception) as info:  # only which kind of failure matters
        dynamo.make_client().get_item(TableName="abc", Key={}, Bogus=1)
    assert not isinstance(info.value, ParamValidationError)
    sfn = dynamo.make_client("stepfunctions")
    assert sfn.meta.service_model.service_name == "stepfunctions"
    assert dynamo.make_client().meta.service_model.service_name == "dynamodb"


def test_one_session_per_container_until_forgotten() -> None:
    first = dynamo._session()
    assert dynamo._session() is first
    dynamo.forget_session()
    assert dynamo._session() is not first


@pytest.mark.parametrize(
    ("value", "attr"),
    [
        (None, {"NULL": True}),
        (True, {"BOOL": True}),
        (0, {"N": "0"}),
        (Decimal("1.50"), {"N": "1.50"}),
        (2.5, {"N": "2.5"}),
        (b"\x00\x01", {"B": b"\x00\x01"}),
        (bytearray(b"ab"), {"B": b"ab"}),
        ((1, "a"), {"L": [{"N": "1"}, {"S": "a"}]}),
        ({"b", "a"}, {"SS": ["a", "b"]}),
        (frozenset({3, 1, 2}), {"NS": ["1", "2", "3"]}),
        ({1: "x"}, {"M": {"1": {"S": "x"}}}),
    ],
)
def test_values_to_attributes(value: Any, attr: dict[str, Any]) -> None:
    assert val(value) == attr


@pytest.mark.parametrize("value", [float("inf"), float("nan"), float("-inf")])
def test_numbers_must_be_finite(value: float) -> None:
    with pytest.raises(ValueError) as info:
        val(value)
    assert str(info.value) == "DynamoDB numbers must be finite"


@pytest.mark.parametrize("value", [object(), {1, "a"}, {True, False}, {1.5}, set()])
def test_unsupported_values_are_refused(value: Any) -> None:
    if value == set():  # an empty set is all strings: DynamoDB itself refuses an empty set
        assert val(value) == {"SS": []}
        return
    with pytest.raises(TypeError) as info:
        val(value)
    assert str(info.value) == f"unsupported type for DynamoDB: {type(value).__name__}"


def test_items_drop_none() -> None:
    assert to_ddb({"a": None, "b": 1}) == {"b": {"N": "1"}}


@pytest.mark.parametrize(
    ("attr", "value"),
    [
        ({"N": "12"}, 12),
        ({"N": "-3"}, -3),
        ({"N": "1.50"}, 1.5),
        ({"N": "2.0"}, 2),
        ({"N": "1E+2"}, 100),
        ({"BOOL": False}, False),
        ({"NULL": True}, None),
        ({"SS": ["a", "b"]}, ["a", "b"]),
        ({"NS": ["1", "2.5"]}, [1, 2.5]),
        ({"B": b"x"}, b"x"),
        ({"BS": [b"x"]}, [b"x"]),
        ({"M": {"k": {"L": [{"S": "v"}]}}}, {"k": ["v"]}),
    ],
)
def test_attributes_to_values(attr: dict[str, Any], value: Any) -> None:
    got = plain(attr)
    assert got == value
    assert type(got) is type(value)


def test_an_unknown_attribute_type_is_refused() -> None:
    with pytest.raises(TypeError, match="unsupported DynamoDB type XS"):
        plain({"XS": "x"})


def test_from_ddb_of_nothing_is_nothing() -> None:
    assert from_ddb(None) is None
    assert from_ddb({}) == {}


def client_error(response: dict[str, Any]) -> ClientError:
    return ClientError(response, "TransactWriteItems")


def test_the_reasons_and_code_of_an_error() -> None:
    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "x"}]
    error = client_error({"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons})
    assert cancellation_reasons(error) == reasons
    assert error_code(error) == "TransactionCanceledException"
    assert cancellation_reasons(client_error({"Error": {}, "CancellationReasons": "x"})) == []
    assert error_code(client_error({})) == ""
    assert cancellation_reasons(ValueError("x")) == []
    assert error_code(ValueError("x")) == ""

    class NoResponse(Exception):
        response = None

    assert error_code(NoResponse()) == ""
    assert cancellation_reasons(NoResponse()) == []
