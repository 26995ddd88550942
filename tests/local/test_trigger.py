"""``make trigger``: acts on a payment by our id or its order reference through the simulator's admin
routes, resolving Checkout's id from the local stack's table; one clear line when it cannot."""

from __future__ import annotations

import httpx
import pytest

from qpay_local import state, trigger
from qpay_local.banner import example_create_body
from qpay_local.stack import LocalStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("state")
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None, ttl_interval_s=0) as s:
        state.save_keys(folder / state.KEYS_FILE, s.local_keys, s.local_credentials)
        state.write_runtime(folder, s.runtime_info())
        s.state_dir = folder
        yield s


def auth(stack):
    return {"Authorization": f"Bearer {stack.keys.merchant_api_key}"}


def create(stack, reference):
    r = httpx.post(
        f"{stack.api_url}/payments",
        json=example_create_body(reference),
        headers={**auth(stack), "Idempotency-Key": f"trigger-{reference}"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def status(stack, payment_id):
    stack.drain()
    return httpx.get(f"{stack.api_url}/payments/{payment_id}", headers=auth(stack), timeout=10).json()


def run(stack, capsys, *args):
    rc = trigger.main([*args, "--state-dir", str(stack.state_dir)])
    out = capsys.readouterr()
    # the handlers (in this process) log JSON lines to the same stdout: the trigger's line is the last
    lines = [line for line in out.out.splitlines() if not line.startswith("{")]
    return rc, (lines[-1] if lines else ""), out.err.strip()


def test_pay_by_our_id_and_refund_in_the_dashboard(stack, capsys):
    pid = create(stack, "ORD-TRIG-1")
    rc, out, _ = run(stack, capsys, "pay", pid)
    assert rc == 0 and out.startswith(f"paid {pid} (pay_")
    assert status(stack, pid)["status"] == "Captured"
    rc, out, _ = run(stack, capsys, "dashboard-refund", pid, "2500")
    assert rc == 0 and "refunded 2500" in out
    doc = status(stack, pid)
    assert doc["refunded_amount"] == 2500 and doc["status"] == "Partially Refunded"


@pytest.mark.parametrize(("action", "final"), [("decline", "Declined"), ("cancel", "Canceled"), ("expire", "Expired")])
def test_by_order_reference(stack, capsys, action, final):
    reference = f"ORD-TRIG-{action.upper()}"
    pid = create(stack, reference)
    rc, out, err = run(stack, capsys, action, reference)
    assert rc == 0, err
    assert pid in out and reference in out
    assert status(stack, pid)["status"] == final


def test_webhook_and_checkout_faults(stack, capsys):
    sim = stack.sim
    dropped = len(sim.webhooks.dropped)
    rc, out, _ = run(stack, capsys, "drop-next-webhook")
    assert rc == 0 and "dropped" in out
    pid = create(stack, "ORD-TRIG-DROP")  # its payment_pending webhook is the next one
    stack.drain()
    assert len(sim.webhooks.dropped) == dropped + 1

    before = len(sim.webhooks.deliveries)
    rc, _, _ = run(stack, capsys, "duplicate-next-webhook")
    assert rc == 0
    run(stack, capsys, "pay", pid)
    stack.drain()
    # capture_pending + captured, one of them twice
    assert len(sim.webhooks.deliveries) == before + 3

    rc, out, _ = run(stack, capsys, "delay-next-webhook", "30")
    assert rc == 0 and "30 s" in out
    rc, out, _ = run(stack, capsys, "fail-next-checkout-call", "timeout")
    assert rc == 0
    rules = httpx.get(f"{stack.sim_url}/_sim/faults", timeout=5).json()["rules"]
    assert [r["kind"] for r in rules] == ["timeout"]
    sim.faults.reset()
    sim.webhooks.reset_chaos()


def test_clear_errors(stack, capsys, tmp_path):
    rc, _, err = run(stack, capsys, "pay", "ORD-NO-SUCH")
    assert rc == 1 and err == "trigger: no payment with id or order reference 'ORD-NO-SUCH' in the local stack"
    rc, _, err = run(stack, capsys, "pay", "qpp_aaaaaaaaaaaaaaaaaaaaaaaaaa")
    assert rc == 1 and "no payment qpp_aaaaaaaaaaaaaaaaaaaaaaaaaa" in err
    rc, _, err = run(stack, capsys, "dashboard-refund", "ORD-TRIG-1", "lots")
    assert rc == 2 and "minor units" in err
    rc, _, err = run(stack, capsys, "fail-next-checkout-call", "418")
    assert rc == 2
    rc = trigger.main(["pay", "ORD-TRIG-1", "--state-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "start one with `make run`" in err and "\n" not in err
    with pytest.raises(SystemExit) as info:
        trigger.main(["explode", "x"])
    assert info.value.code == 2


@pytest.mark.parametrize(("flag", "final"), [("--pay", "Captured"), ("--decline", "Declined"), (None, "Pending")])
def test_create_makes_a_payment_and_optionally_settles_it(stack, capsys, flag, final):
    rc = trigger.main(["create", "--amount", "4050", *([flag] if flag else []), "--state-dir", str(stack.state_dir)])
    out = capsys.readouterr().out
    assert rc == 0
    pid = next(line for line in out.splitlines() if line.startswith("created ")).split()[1]
    assert pid.startswith("qpp_")
    if flag:
        assert ("paid on the QPay page" if flag == "--pay" else "declined on the QPay page") in out
    doc = status(stack, pid)
    assert (doc["status"], doc["amount"]) == (final, 4050)


def test_a_refused_trigger_says_the_reason_code(stack, capsys):
    pid = create(stack, "ORD-TRIG-TWICE")
    assert run(stack, capsys, "pay", pid)[0] == 0
    rc, _, err = run(stack, capsys, "pay", pid)
    assert rc == 1 and err.endswith("409 payment_not_pending"), err


def test_one_trigger_shows_the_outage(stack, capsys):
    rc, out, _ = run(stack, capsys, "checkout-outage")
    assert rc == 0 and "outage page" in out
    r = httpx.post(f"{stack.api_url}/payments", json=example_create_body("ORD-TRIG-OUT"),
                   headers={**auth(stack), "Idempotency-Key": "trigger-out"}, timeout=60)  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (503, "checkout_unavailable")
    rc, out, _ = run(stack, capsys, "fail-next-checkout-call", "502", "--count", "2")
    assert rc == 0 and "2 calls will fail with 502" in out and "the API retries" in out
    stack.sim.faults.reset()
