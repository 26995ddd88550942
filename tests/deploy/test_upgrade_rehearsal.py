"""The upgrade, rehearsed offline (review D2, issue 20 point 2): the LAST RELEASE's template (the newest
v* tag, else the baseline commit in infra/release-baseline.json) is transformed and created in moto's
CloudFormation; payments are written through it; the stack is updated to this template with moto's
UpdateStack; then the old payments still settle (return + webhooks), refund (the state machine through
the alias target) and expire (the TTL removal of their timer) on the updated stack, in the same table.

What moto's UpdateStack does and does not do is printed (``-s``) and in docs/deploy.md: it applies the
resource diff of the parts it supports (the same subset as its create), without change sets, CodeDeploy
or the DynamoDB one-GSI-per-update rule; that rule is the upgrade gate's (infra/tools/upgrade.py)."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from infra.tools import upgrade
from infra.tools.revision import REVISION_PARAMETER
from tests.deploy import rehearsal
from tests.deploy.conftest import ROOT, print_report, run_gate
from tests.deploy.test_rehearsal import SUCCESS_CARD, Deployed, _get
from tests.support.streams import remove_record


def _release_ref() -> str:
    tag = upgrade.last_release_tag()
    return tag or str(json.loads(upgrade.BASELINE.read_text())["commit"])


@pytest.fixture(scope="module")
def previous(tool_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The last release's template after the real SAM transform."""
    ref = _release_ref()
    tmp = tmp_path_factory.mktemp("release")
    for path in ("template.yaml", "infra/refund.asl.yaml"):
        shown = subprocess.run(
            ["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60
        )
        if shown.returncode != 0:
            pytest.skip(f"the last release ({ref}) is not in this clone: {shown.stderr.strip()}")
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / path).write_text(shown.stdout)
    run = run_gate(tool_python, tmp / "template.yaml", tmp / "transformed.json")
    assert run.returncode == 0, run.stderr
    doc: dict[str, Any] = json.loads((tmp / "transformed.json").read_text())
    return doc


@pytest.fixture(scope="module")
def stack(previous: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    deployed = Deployed(previous, tmp_path_factory.mktemp("upgrade"))
    try:
        yield deployed
    finally:
        deployed.close()


def _create(stack: Deployed, reference: str, auth: dict[str, str]) -> tuple[str, str]:
    body = {
        "reference": reference,
        "amount": 9000,
        "currency": "QAR",
        "description": "Upgrade rehearsal",
        "language": "en",
        "quantity": 1,
        "national_id": "28763400000",
    }
    created = stack.http(
        "CreatePaymentFunction", "POST", "/payments", body=body, headers={**auth, "idempotency-key": reference}
    )
    assert created["statusCode"] == 201, created
    (cko,) = [p for p in stack.sim.payments.values() if p.reference == reference]
    return str(json.loads(created["body"])["id"]), str(cko.id)


def _pay_and_return(stack: Deployed, cko_id: str) -> None:
    back = urlparse(stack.sim.pay(cko_id, **SUCCESS_CARD))
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    returned = stack.http("PaymentReturnFunction", "GET", back.path, query=query, body=None)
    assert returned["statusCode"] == 303, returned
    stack.deliver_webhooks()


def _refund(stack: Deployed, payment_id: str) -> str:
    refund = stack.http(
        "RefundRequestFunction",
        "POST",
        f"/payments/{payment_id}/refunds",
        route="POST /payments/{id}/refunds",
        path_params={"id": payment_id},
        body={},
        headers={"idempotency-key": f"refund-{payment_id}"},
        iam_user_arn=f"arn:aws:iam::{rehearsal.ACCOUNT}:user/back-office",
    )
    assert refund["statusCode"] == 202, refund
    sfn = rehearsal.client("stepfunctions", stack.endpoint)
    deadline = time.monotonic() + 120
    status = "RUNNING"
    while status == "RUNNING" and time.monotonic() < deadline:
        stack.deliver_webhooks()
        executions = sfn.list_executions(stateMachineArn=stack.outputs["RefundStateMachineArn"])["executions"]
        status = executions[0]["status"] if executions else "RUNNING"
        time.sleep(0.2)
    return status


def test_payments_of_the_last_release_settle_refund_and_expire_after_the_update(
    stack: Deployed, transformed: dict[str, Any]
) -> None:
    stack.put_keys()
    auth = {"authorization": f"Bearer {stack.merchant_key}"}
    # written through the last release's stack
    captured, captured_cko = _create(stack, "ORD-UPGRADE-REFUND", auth)
    _pay_and_return(stack, captured_cko)
    assert _get(stack, captured, auth)["status"] == "Captured"
    unpaid, unpaid_cko = _create(stack, "ORD-UPGRADE-SETTLE", auth)
    abandoned, abandoned_cko = _create(stack, "ORD-UPGRADE-EXPIRE", auth)
    ddb = rehearsal.client("dynamodb", stack.endpoint)
    table = stack.outputs["TableName"]
    items_before = ddb.scan(TableName=table, Select="COUNT")["Count"]
    old_functions = {k for k, v in stack.created.items() if v[0] == "AWS::Lambda::Function"}
    before = Counter(v[0] for v in stack.created.values())

    replaced = stack.update(transformed, {REVISION_PARAMETER: "0123456789abcdef"})

    after = Counter(v[0] for v in stack.created.values())
    print_report(
        f"update {_release_ref()} -> this template in moto: {sum(before.values())} -> {sum(after.values())} resources "
        f"({dict(after - before)} added, {dict(before - after)} removed); replaced: {sorted(replaced) or 'none'}",
        "settled, refunded and expired after the update: one old payment each",
    )
    assert stack.outputs["TableName"] == table and "PaymentsTable" not in replaced
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == items_before  # no item lost
    assert set(stack.functions) == old_functions  # the same ten functions

    # settle: an old pending payment is paid after the update
    _pay_and_return(stack, unpaid_cko)
    assert _get(stack, unpaid, auth)["status"] == "Captured"
    # refund: an old captured payment, through the updated state machine (alias target)
    assert _refund(stack, captured) == "SUCCEEDED"
    view = _get(stack, captured, auth)
    assert view["status"] == "Refunded" and view["refunded_amount"] == 9000
    # expire: the old payment's timer is removed by TTL; Checkout says Expired
    stack.sim.expire_payment(abandoned_cko)
    stack.sim.webhooks.clear()  # the expiry path, not the webhook, must end it
    from boto3.dynamodb.types import TypeDeserializer

    from qpay.adapters.store.keys import TIMER_SK, payment_pk

    key = {"pk": {"S": payment_pk(abandoned)}, "sk": {"S": TIMER_SK}}
    timer = ddb.get_item(TableName=table, Key=key)["Item"]
    ddb.delete_item(TableName=table, Key=key)
    old_image = {k: TypeDeserializer().deserialize(v) for k, v in timer.items()}
    answer = stack.runner.invoke("ExpiryFunction", {"Records": [remove_record(old_image)]})
    assert answer == {"batchItemFailures": []}
    assert _get(stack, abandoned, auth)["status"] == "Expired"
