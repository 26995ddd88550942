"""A multi-process HTTP API front for the load run: the local stack's gateway and runtime, in N processes.

The parent binds one listening socket and starts N workers (``python -m qpay_bench.front spec``) that
inherit it; the kernel hands each new connection to one of them. Each worker builds the local stack's
own :class:`~qpay_local.apigw.Gateway` (routes, payload v2 events, SigV4) and
:class:`~qpay_local.runtime.Runtime` (the real handlers, imported on first use) from template.yaml, with
the environment the stack resolved — so the handlers talk to the same DynamoDB Local, moto and
simulator as the stack's own process. Each worker times its handlers (thread CPU around each
``Runtime.invoke``) and reports them, with its process CPU, when stopped (SIGTERM).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class HandlerClock:
    """Thread CPU and wall seconds spent inside handlers, per function (thread-safe)."""

    cpu: dict[str, float] = field(default_factory=dict)
    wall: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)  # per-call thread CPU (first 5,000)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, invoke: Callable[[str, Any], Any], name_of: Callable[[str], str]) -> Callable[[str, Any], Any]:
        def timed(function: str, event: Any) -> Any:
            c, w = time.thread_time(), time.perf_counter()
            try:
                return invoke(function, event)
            finally:
                dc, dw = time.thread_time() - c, time.perf_counter() - w
                name = name_of(function)
                with self.lock:
                    self.cpu[name] = self.cpu.get(name, 0.0) + dc
                    self.wall[name] = self.wall.get(name, 0.0) + dw
                    self.calls[name] = self.calls.get(name, 0) + 1
                    kept = self.samples.setdefault(name, [])
                    if len(kept) < 5000:
                        kept.append(dc)

        return timed

    def reset(self) -> None:
        with self.lock:
            self.cpu.clear()
            self.wall.clear()
            self.calls.clear()
            self.samples.clear()

    @staticmethod
    def since(now: dict[str, Any], mark: dict[str, Any]) -> dict[str, Any]:
        """What ``now`` (an ``as_dict``) added after ``mark`` (an earlier ``as_dict``)."""
        out: dict[str, Any] = {"cpu": {}, "wall": {}, "calls": {}, "samples": {}}
        for name in now["calls"]:
            for kind in ("cpu", "wall", "calls"):
                out[kind][name] = now[kind][name] - mark.get(kind, {}).get(name, 0)
            out["samples"][name] = now["samples"][name][len(mark.get("samples", {}).get(name, [])) :]
        return out

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"cpu": dict(self.cpu), "wall": dict(self.wall), "calls": dict(self.calls),
                    "samples": {k: list(v) for k, v in self.samples.items()}}  # fmt: skip


@dataclass(frozen=True)
class WorkerSpec:
    fd: int
    env: dict[str, str]
    template: str
    functions: dict[str, tuple[str, str]]  # logical id -> (physical name, ARN)
    gateway: Any  # qpay_local.apigw.GatewayConfig without its invoke (pickled)
    stats_path: str


def _worker(spec_path: str) -> None:
    with open(spec_path, "rb") as f:
        spec: WorkerSpec = pickle.load(f)  # noqa: S301 - written by our parent a moment ago
    os.environ.update(spec.env)
    import logging  # noqa: PLC0415

    from werkzeug.serving import make_server  # noqa: PLC0415

    from qpay_local.apigw import Gateway  # noqa: PLC0415
    from qpay_local.runtime import LocalFunction, Runtime  # noqa: PLC0415
    from qpay_local.template import Template  # noqa: PLC0415

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    template = Template(spec.template)
    defs = template.functions()
    functions = {k: LocalFunction(defs[k], name, arn) for k, (name, arn) in spec.functions.items()}
    runtime = Runtime(functions, template.root)
    clock = HandlerClock()
    spec.gateway.invoke = clock.wrap(runtime.invoke, lambda f: runtime.find(f).definition.logical_id)
    server = make_server("127.0.0.1", 0, Gateway(spec.gateway), threaded=True, fd=spec.fd)

    marked: dict[str, Any] = {}

    def mark(signum: int, frame: Any) -> None:
        marked.clear()
        marked.update(clock.as_dict())
        Path(spec.stats_path + ".marked").write_text("1")

    def stop(signum: int, frame: Any) -> None:
        times = os.times()
        doc = {"pid": os.getpid(), "handlers": clock.as_dict(), "mark": marked, "cpu_s": times.user + times.system}
        with contextlib.suppress(OSError):
            Path(spec.stats_path).write_text(json.dumps(doc))
        threading.Thread(target=server.shutdown, daemon=True).start()
        threading.Timer(5.0, os._exit, (0,)).start()  # threads still serving a request must not hold it up

    parent = os.getppid()

    def orphaned() -> None:  # the load run was killed: do not outlive it
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR1, mark)
    Path(spec.stats_path + ".ready").write_text(str(os.getpid()))
    server.serve_forever(poll_interval=0.05)


class Front:
    """``with Front(n) as front:`` — ``front.url`` is served by ``n`` worker processes once ``start``ed."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.sock.set_inheritable(True)
        self.procs: list[subprocess.Popen[bytes]] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="qpay-front-")
        self.stats: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def start(self, env: dict[str, str], functions: dict[str, tuple[str, str]], gateway: Any) -> None:
        template = str(ROOT / "template.yaml")
        path = os.pathsep.join(str(ROOT / p) for p in ("functions", "sandbox", "."))
        for i in range(self.workers):
            spec = WorkerSpec(self.sock.fileno(), env, template, functions, gateway, f"{self._tmp.name}/stats-{i}.json")
            spec_path = Path(self._tmp.name, f"worker-{i}.pickle")
            spec_path.write_bytes(pickle.dumps(spec))
            with Path(self._tmp.name, f"worker-{i}.err").open("wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "qpay_bench.front", str(spec_path)],
                    pass_fds=(self.sock.fileno(),), env={**os.environ, **env, "PYTHONPATH": path},
                    stdout=subprocess.DEVNULL, stderr=err,
                )  # fmt: skip
            self.procs.append(proc)
        deadline = time.monotonic() + 60
        for i, proc in enumerate(self.procs):
            ready = Path(self._tmp.name, f"stats-{i}.json.ready")
            while not ready.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"front worker {i} did not start: {self.errors(i)}")
                time.sleep(0.05)

    def errors(self, i: int) -> str:
        path = Path(self._tmp.name, f"worker-{i}.err")
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def mark(self) -> None:
        """Workers note their handler clocks now; ``stop`` reports what came after."""
        for i, proc in enumerate(self.procs):
            Path(self._tmp.name, f"stats-{i}.json.marked").unlink(missing_ok=True)
            proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        for i in range(len(self.procs)):
            while not Path(self._tmp.name, f"stats-{i}.json.marked").exists() and time.monotonic() < deadline:
                time.sleep(0.02)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> list[dict[str, Any]]:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for i, proc in enumerate(self.procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            stats = Path(self._tmp.name, f"stats-{i}.json")
            if stats.exists():
                self.stats.append({**json.loads(stats.read_text()), "stderr": self.errors(i)})
        self.procs.clear()
        self.sock.close()
        self._tmp.cleanup()
        return self.stats


if __name__ == "__main__":
    _worker(sys.argv[1])
