"""``python -m qpay_local run`` as a developer meets it: the banner arrives at once and says what to do,
keys survive a restart, a bad flag or a missing prerequisite is one line."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from qpay_local.stack import REPO_ROOT

ENV = {
    "PYTHONPATH": f"{REPO_ROOT / 'sandbox'}:{REPO_ROOT / 'functions'}",
    "PATH": "/usr/bin:/bin",
    "HOME": os.environ.get("HOME", "/tmp"),
}


class Running:
    """The CLI in its own process; stdout read line by line as it comes (a pipe, so only flushed
    output arrives while the process runs)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qpay_local", "run", *args],
            cwd=REPO_ROOT,
            env=env or ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def banner(self, timeout: float = 90.0) -> str:
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(f"exited {self.proc.returncode}: {self.proc.stderr.read()}") from None
                continue
            got.append(line)
            if "/refunds" in line:
                return "".join(got)
        raise AssertionError("no banner while the stack runs (is stdout flushed?): " + "".join(got))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def test_banner_at_once_and_keys_kept_across_restarts(tmp_path):
    state_dir = tmp_path / "state"
    args = (
        "--api-port", "0", "--sim-port", "0", "--state-dir", str(state_dir),
        "--cors-origin", "http://localhost:5173",
        "--storefront-url", "http://localhost:8080/checkout/done",
    )  # fmt: skip
    first = Running(*args)
    try:
        banner = first.banner()
        runtime = json.loads((state_dir / "stack.json").read_text())
    finally:
        assert first.stop() == 0
    assert not (state_dir / "stack.json").exists()  # removed on stop
    keys = json.loads((state_dir / "keys.json").read_text())["secret"]
    merchant = keys["merchant_api_keys"][0]
    # a complete create call: bearer key, idempotency key, every field with units
    assert f"-H 'Authorization: Bearer {merchant}'" in banner
    assert "Idempotency-Key:" in banner
    assert "X-Client-Secret" in banner and f"{runtime['api_url']}/payments/<id>" in banner  # how to read it
    body = json.loads(banner.split("-d '", 1)[1].split("'", 1)[0])
    assert set(body) == {
        "reference", "amount", "currency", "description", "language", "quantity", "national_id", "customer", "metadata",
    }  # fmt: skip
    assert isinstance(body["amount"], int) and "minor units" in banner
    assert runtime["sim_url"] + "/_sim/payments" in banner
    assert "sk_sbox_" in banner and "Checkout's SDK against the simulator" in banner
    assert "http://localhost:5173" in banner and "http://localhost:8080" in banner  # CORS origins
    assert "http://localhost:8080/checkout/done" in banner  # where shoppers return
    assert "--storefront-url" in banner and "StorefrontOrigins" in banner
    assert "Expiry window (EXPIRY_WINDOW_S)" in banner
    env_local = (state_dir / "env.local").read_text()
    assert f"QPAY_MERCHANT_API_KEY={merchant}" in env_local
    assert f"QPAY_API_URL={runtime['api_url']}" in env_local
    # U12: a storefront loading env.local with dotenv keeps its own AWS SDK calls on its own credentials
    names = {line.split("=", 1)[0] for line in env_local.splitlines() if "=" in line and line[0] != "#"}
    assert not [n for n in names if n.startswith("AWS_")], names
    assert {"QPAY_AWS_ACCESS_KEY_ID", "QPAY_AWS_SECRET_ACCESS_KEY", "QPAY_AWS_REGION"} <= names
    assert "Order events batched" in banner and "--events-batching-window 0" in banner
    assert "kept across restarts" in banner and "--fresh" in banner  # U9

    second = Running(*args)
    try:
        again = second.banner()
    finally:
        assert second.stop() == 0
    assert f"-H 'Authorization: Bearer {merchant}'" in again  # the same keys after a restart
    assert "the same keys as last time" in again
    env_again = dict(
        line.split("=", 1)
        for line in (state_dir / "env.local").read_text().splitlines()
        if "=" in line and line[0] != "#"
    )
    first_env = dict(line.split("=", 1) for line in env_local.splitlines() if "=" in line and line[0] != "#")
    for name in (
        "QPAY_MERCHANT_API_KEY",
        "QPAY_ORDER_TOKEN_KEY",
        "QPAY_AWS_ACCESS_KEY_ID",
        "QPAY_AWS_SECRET_ACCESS_KEY",
    ):
        assert env_again[name] == first_env[name], name


def test_a_bad_flag_prints_runs_own_usage():
    proc = subprocess.run(
        [sys.executable, "-m", "qpay_local", "run", "--port", "3400"],
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "usage: python -m qpay_local run" in proc.stderr
    assert "--api-port" in proc.stderr
    assert "unrecognized arguments: --port 3400" in proc.stderr


def test_ddb_local_without_java_is_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "qpay_local", "run", "--ddb-local", "--api-port", "0", "--state-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env={**ENV, "PATH": str(tmp_path)},  # no java on PATH
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "java not found (apt-get install default-jre-headless)" in proc.stderr
    assert not (tmp_path / "keys.json").exists()  # nothing started, nothing written
