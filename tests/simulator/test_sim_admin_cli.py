"""Admin endpoints under /_sim and the ``python -m cko_sim`` command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from simhelpers import create

from cko_sim import Simulator

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"


def test_admin_endpoints(client: httpx.Client, sim: Simulator) -> None:
    base = f"{sim.base_url}/_sim"
    assert httpx.get(f"{base}/health").json()["ok"] is True
    pay_id = create(client)["id"]
    assert httpx.get(f"{base}/payments").json()[0]["id"] == pay_id
    paid = httpx.post(f"{base}/payments/{pay_id}/pay", json={"card": "4215375500883243", "pin": "123456"}).json()
    assert paid["status"] == "Captured"
    assert "cko-session-id=sid_" in paid["redirect_url"]
    refund = httpx.post(f"{base}/payments/{pay_id}/dashboard-refund", json={"amount": 100}).json()
    assert refund["action_id"].startswith("act_")
    assert httpx.post(f"{base}/webhooks/wait-idle", json={"timeout": 5}).json()["idle"] is True
    shown = httpx.get(f"{base}/payments/{pay_id}").json()
    assert shown["status"] == "Partially Refunded"
    assert [a["type"] for a in shown["actions"]] == ["Refund", "Capture"]

    other = create(client)["id"]
    assert httpx.post(f"{base}/payments/{other}/cancel").json()["redirect_url"].startswith("https://shop.example/fail")
    third = create(client)["id"]
    assert httpx.post(f"{base}/payments/{third}/expire").json()["ok"] is True
    assert httpx.post(f"{base}/payments/{third}/expire").status_code == 409
    assert httpx.post(f"{base}/payments/pay_nope/pay").status_code == 404

    assert httpx.post(f"{base}/faults/fail-next", json={"n": 1, "status": 503}).json()["ok"]
    assert httpx.get(f"{base}/faults").json()["rules"][0]["kind"] == 503
    assert client.get(f"/payments/{pay_id}").status_code == 503
    assert httpx.post(f"{base}/faults/fail-next", json={"status": "boom"}).status_code == 422
    assert httpx.post(f"{base}/faults/decline-refunds", json={"enabled": True}).json()["decline_refunds"]
    assert sim.faults.decline_refunds
    httpx.post(f"{base}/faults/reset")
    assert not sim.faults.decline_refunds

    for name in ("duplicate-next", "reorder-next", "drop-next", "delay-next", "pause", "resume", "release-held"):
        assert httpx.post(f"{base}/webhooks/{name}", json={"n": 1}).json()["ok"]
    chaos = httpx.post(f"{base}/webhooks/chaos", json={"drop": 0.5, "delay_seconds": 2}).json()
    assert chaos["drop"] == 0.5
    assert sim.config.webhook_drop_probability == 0.5
    httpx.post(f"{base}/webhooks/chaos", json={"drop": 0, "delay_seconds": 0})
    sim.webhooks.reset_chaos()
    assert httpx.get(f"{base}/webhooks/events").json()[0]["type"] == "payment_pending"
    assert isinstance(httpx.get(f"{base}/webhooks/deliveries").json(), list)
    assert len(httpx.get(f"{base}/requests").json()) >= 3

    before = sim.clock.now()
    after = httpx.post(f"{base}/clock/advance", json={"seconds": 3600}).json()["now"]
    assert after > before.isoformat()[:19]
    assert httpx.post(f"{base}/reset").json()["ok"]
    assert sim.payments == {}


def _run_cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(SANDBOX), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "cko_sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_cli_prints_urls_and_stops_on_ctrl_c() -> None:
    proc = _run_cli("--host", "127.0.0.1", "--port", "0", "--webhook-key", "k", "--time-scale", "0.01")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Checkout.com QPay simulator on http://127.0.0.1:")
        base = first.rsplit(" ", 1)[1].strip()
        assert httpx.get(f"{base}/_sim/health", timeout=5).json()["ok"] is True
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_port_busy_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _run_cli("--port", str(port))
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2
    assert "already in use" in err
