"""Work that nothing else owns (correctness review H1, H3, M2, L4, L8; fidelity N2): creates that never
reached Checkout.com, refunds whose workflow never started or died, refunds Checkout does not list yet,
statuses we did not map, and jobs that must stop before Lambda kills them."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from qpay import deps
from qpay.domain import ids
from qpay.domain.records import Refund
from qpay.domain.refund_states import RefundState
from qpay.service import expiry as expiry_svc
from qpay.service import refunds as refund_svc
from tests.conftest import REGION, body_of, create_body, invoke_create, invoke_webhook
from tests.support.apigw import FakeContext
from tests.support.webhooks import notification

CARD = {"card": "4215375500883243", "expiry": "12/30", "pin": "123456"}
MACHINE = "qpay-test-refunds"  # base_env's REFUND_STATE_MACHINE_ARN names it


@pytest.fixture
def machine(aws: Any) -> Any:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    sfn.create_state_machine(
        name=MACHINE,
        definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    return sfn


def captured_payment(sim: Any) -> tuple[str, str]:
    pid = body_of(invoke_create(create_body(reference=f"ORD-{ids.new_refund_id()[4:14]}")))["id"]
    cko = next(p.id for p in sim.payments.values() if p.metadata.get("qpay_payment_id") == pid)
    sim.pay(cko, **CARD)
    invoke_webhook(notification("payment_captured", cko_payment_id=cko, payment_id=pid, amount=12500))
    return pid, cko


def requested(pid: str, amount: int, *, age_s: int = 0) -> Refund:
    now = int(time.time()) - age_s
    refund = Refund(id=ids.new_refund_id(), payment_id=pid, amount=amount, created_at=now, updated_at=now)
    deps.store().reserve_refund(refund, now=now)
    return refund


def ports() -> refund_svc.RefundPorts:
    return refund_svc.RefundPorts(
        store=deps.store(), settings=deps.get_settings(), checkout=deps.checkout(), stepfunctions=deps.stepfunctions
    )


def executions(sfn: Any) -> dict[str, str]:
    arn = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    return {e["name"]: e["status"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]}


# ------------------------------------------------------------------ H3: refunds nobody owns
def test_h3_a_refund_whose_workflow_never_started_is_started_by_the_sweeper(aws, sim, machine) -> None:
    from qpay.handlers import sweep

    pid, _ = captured_payment(sim)
    refund = requested(pid, 2500, age_s=3600)  # reserved an hour ago; StartExecution failed then
    assert executions(machine) == {}
    counts = sweep.sweep_refunds(now=int(time.time()))
    assert counts == {"started": 1}
    assert deps.store().get_refund(pid, refund.id).state is RefundState.REQUESTED  # the workflow owns it now
    assert executions(machine) == {refund.id: "RUNNING"}
    assert sweep.sweep_refunds(now=int(time.time())) == {"running": 1}  # a live execution is left alone


def test_h3_a_dead_execution_is_replaced_not_taken_for_success(aws, sim, machine) -> None:
    pid, _ = captured_payment(sim)
    refund = requested(pid, 2500)
    assert refund_svc.ensure_execution(ports(), refund, now=int(time.time())) == "started"
    arn = machine.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    machine.stop_execution(executionArn=arn.replace(":stateMachine:", ":execution:") + f":{refund.id}")
    # the merchant retries with the same key (or the sweeper looks): an aborted execution is not success
    again = deps.store().get_refund(pid, refund.id)
    assert refund_svc.ensure_execution(ports(), again, now=int(time.time()), check_first=True) == "restarted"
    assert executions(machine) == {refund.id: "ABORTED", f"{refund.id}-1": "RUNNING"}
    latest = deps.store().get_refund(pid, refund.id)
    assert latest.executions == 1 and refund_svc.execution_name(latest) == f"{refund.id}-1"
    assert refund_svc.ensure_execution(ports(), latest, now=int(time.time()), check_first=True) == "running"


def test_h3_execution_already_exists_is_success_only_when_that_execution_lives(aws) -> None:
    """StartExecution on a closed execution's name answers ExecutionAlreadyExists (moto does not model
    that, so botocore's Stubber plays Step Functions here, against the service model)."""
    from botocore.stub import Stubber

    client = deps.stepfunctions()
    refund = Refund(id="qrf_" + "s" * 26, payment_id="qpp_" + "s" * 26, amount=100)
    arn = deps.get_settings().refund_state_machine_arn
    execution = f"{arn.replace(':stateMachine:', ':execution:')}:{refund.id}"
    bumped: list[int] = []
    store = deps.store()
    store.bump_execution = lambda *a, **k: bumped.append(1) or 1  # type: ignore[method-assign]
    for status, expected in (("RUNNING", "running"), ("FAILED", "restarted")):
        with Stubber(client) as stub:
            stub.add_client_error("start_execution", service_error_code="ExecutionAlreadyExists")
            stub.add_response(
                "describe_execution",
                {"executionArn": execution, "stateMachineArn": arn, "status": status, "startDate": 0},
                {"executionArn": execution},
            )
            if status == "FAILED":
                stub.add_response(
                    "start_execution",
                    {"executionArn": execution + "-1", "startDate": 0},
                    {"stateMachineArn": arn, "name": f"{refund.id}-1", "input": stub_input(refund)},
                )
            assert refund_svc.ensure_execution(ports(), refund, now=0) == expected
            stub.assert_no_pending_responses()
    assert bumped == [1]


def stub_input(refund: Refund) -> str:
    return json.dumps({"payment_id": refund.payment_id, "refund_id": refund.id})


def test_h3_retry_budgets_add_up_to_what_the_template_says() -> None:
    from tests.support.template import template

    subs = template()["Resources"]["RefundStateMachine"]["Properties"]["DefinitionSubstitutions"]

    def budget(interval: str, attempts: str, cap: str) -> int:
        return sum(min(subs[cap], subs[interval] * 2**k) for k in range(subs[attempts]))

    # every wait's cap is at least its base interval (a smaller cap cut the reconcile budget to minutes)
    assert subs["RetryMaxDelaySeconds"] >= subs["RetryIntervalSeconds"]
    assert subs["ReconcileMaxDelaySeconds"] >= subs["ReconcileIntervalSeconds"]
    assert budget("RetryIntervalSeconds", "RetryMaxAttempts", "RetryMaxDelaySeconds") == 126
    assert budget("ReconcileIntervalSeconds", "ReconcileMaxAttempts", "ReconcileMaxDelaySeconds") == 11700


# ------------------------------------------------------------------ M2: not listed is not failed
def test_m2_a_refund_checkout_does_not_list_yet_is_asked_again_not_failed(aws, sim) -> None:
    pid, cko = captured_payment(sim)
    refund = requested(pid, 2500)  # Checkout accepted it, but our record of the 202 was lost
    with pytest.raises(refund_svc.OutcomeUnknown):
        refund_svc.task_reconcile(pid, refund.id, now=int(time.time()), ports=ports())
    after = deps.store().get_refund(pid, refund.id)
    assert after.state is RefundState.PENDING and after.action_id  # the repeated request proved it
    refunds_at_checkout = [r for r in sim.requests if r.path.endswith("/refunds")]
    assert {r.idempotency_key for r in refunds_at_checkout} == {refund.id}  # one key: one refund at Checkout


# ------------------------------------------------------------------ N2: what GET /payments/{id} may say
@pytest.mark.parametrize(
    ("status", "stage", "metric"),
    [("Voided", "Expired", None), ("Paid", "Captured", None), ("Mystery", "Pending", "CheckoutStatusUnmapped")],
)
def test_n2_checkout_statuses_are_mapped_or_counted(aws, sim, monkeypatch, capfd, status, stage, metric) -> None:
    from qpay.handlers import sweep

    pid = body_of(invoke_create(create_body()))["id"]
    client = deps.checkout()
    real = client.get_payment
    monkeypatch.setattr(client, "get_payment", lambda i: {**real(i), "status": status})
    payment = deps.store().get_payment(pid)
    ports_ = expiry_svc.ExpiryPorts(store=deps.store(), checkout=client, settings=deps.get_settings())
    expiry_svc.reconcile_open(payment, now=int(time.time()) + 3600, ports=ports_, source="sweep")
    assert deps.store().get_payment(pid).stage.value == stage
    out = capfd.readouterr().out
    if metric:
        assert f'"{metric}":[1.0]' in out
    del sweep


# ------------------------------------------------------------------ L4: time budgets
def test_l4_expiry_record_without_time_for_checkout_is_handed_back(aws, sim) -> None:
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from qpay.handlers import expiry
    from tests.support.make_events import stream_events

    event = stream_events()["ExpiryFunction/ttl-removal.json"]
    before = len(sim.requests)
    with pytest.raises(BatchProcessingError):  # less than Checkout's 12 s deadline left
        expiry.handler(event, FakeContext(timeout_s=5))  # Lambda retries the batch (bisecting it)
    assert len(sim.requests) == before  # Checkout was not called into a timeout


def test_l4_sweep_stops_when_its_time_is_up(aws, sim) -> None:
    from qpay.handlers import sweep

    for i in range(3):
        invoke_create(create_body(reference=f"ORD-SWEEP-{i}"))
    left = iter([100.0, 100.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    counts = sweep.sweep(now=int(time.time()) + 3600, grace_s=0, time_left_s=lambda: next(left, 1.0))
    assert sum(counts.values()) == 1


def test_l4_f12_reconciliation_checkpoints_and_reports_when_it_stops_early(aws, sim, monkeypatch) -> None:
    from qpay.service import reconcile

    pids = [body_of(invoke_create(create_body(reference=f"ORD-REC-{i}")))["id"] for i in range(3)]
    monkeypatch.setattr(reconcile, "CHECKPOINT_EVERY", 1)
    saved: list[dict[str, Any]] = []
    left = iter([1000.0, 1000.0, 0.0])
    rec_ports = reconcile.ReconcilePorts(store=deps.store(), checkout=deps.checkout(), settings=deps.get_settings())
    report = reconcile.run(
        now=int(time.time()),
        ports=rec_ports,
        payment_ids=pids,
        time_left_s=lambda: next(left, 0.0),
        checkpoint=lambda r: saved.append(r.as_dict()),
    )
    assert report.truncated and report.checked == 2
    assert [s["checked"] for s in saved] == [1, 2]


def test_l8_reconciliation_reads_the_newest_day_first(aws) -> None:
    from qpay.adapters.store.keys import changed_key
    from qpay.service import reconcile

    now = int(time.time())
    days = {d: ids.new_payment_id() for d in (0, 1, 2)}
    for d, pid in days.items():
        aws.ddb.put_item(
            TableName="qpay-test-payments",
            Item={
                "pk": {"S": f"PAYMENT#{pid}"},
                "sk": {"S": "PAYMENT"},
                "changed_day": {"S": changed_key(pid, now - d * 86400)},
            },
        )
    got, cut = reconcile.changed_since(deps.store(), since=now - 2 * 86400, now=now, max_items=1)
    assert got == [days[0]] and cut  # cut, but today's changes were read first
