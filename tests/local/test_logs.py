"""Local logs read like ``sam local``: under concurrency every handler line names the function (and
request) that wrote it; each invocation gets its START/REPORT (json) or one summary line (pretty)."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections import Counter

import pytest

from qpay_local import replay
from qpay_local.logs import CURRENT, Invocation, LogRouter, trigger_of
from qpay_local.stack import REPO_ROOT, LocalStack

EVENTS = REPO_ROOT / "events"
# each fixture makes its handler log "request refused" with a status only that function produces
CASES = {
    "GetPaymentFunction": ("GetPaymentFunction/get.json", 404),
    "WebhookFunction": ("WebhookFunction/bad-signature.json", 401),
    "CreatePaymentFunction": ("CreatePaymentFunction/create-invalid.json", 422),
}


@pytest.fixture(scope="module")
def stack_and_output():
    out = io.StringIO()
    with LocalStack(
        api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None, log_format="json", log_stream=out
    ) as s:
        yield s, out


def test_every_line_names_its_function_under_concurrency(stack_and_output):
    stack, out = stack_and_output
    creds = replay.Credentials(merchant_key=stack.keys.merchant_api_key)
    events = {}
    for function, (rel, _) in CASES.items():
        fx = replay.load(EVENTS / rel)
        events[function] = replay.prepare_http_event(fx.event, fx, creds)
    calls = Counter()
    errors = []
    barrier = threading.Barrier(9)

    def worker(i):
        function = list(CASES)[i % 3]
        barrier.wait()
        for _ in range(12):
            try:
                status = stack.invoke(function, events[function])["statusCode"]
                assert status == CASES[function][1], (function, status)
            except Exception as exc:
                errors.append(exc)
                return
            calls[function] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    docs = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    starts = {d["record"]["requestId"]: d["function"] for d in docs if d.get("type") == "platform.start"}
    reports = [d for d in docs if d.get("type") == "platform.report"]
    by_status = {status: fn for fn, (_, status) in CASES.items()}
    refused = [d for d in docs if d.get("message") == "request refused"]
    assert len(refused) == sum(calls.values()) == 108
    for d in refused:
        function = by_status[d["status"]]
        assert d["function_name"] == stack.runtime.functions[function].name, d
        assert starts[d["function_request_id"]] == function, d
    assert Counter(by_status[d["status"]] for d in refused) == calls
    assert len(reports) == len(starts) == sum(calls.values())
    for r in reports:
        assert starts[r["record"]["requestId"]] == r["function"]
        assert r["record"]["metrics"]["billedDurationMs"] >= r["record"]["metrics"]["durationMs"]
    # each function's first invocation was a cold start, with its init duration
    cold = [r for r in reports if "initDurationMs" in r["record"]["metrics"]]
    assert sorted(r["function"] for r in cold) == sorted(CASES)


def test_pretty_is_one_line_per_invocation_with_the_handlers_lines_condensed():
    out = io.StringIO()
    router = LogRouter("pretty", out, loggers=("qpay_local_test_pretty",))
    lg = logging.getLogger("qpay_local_test_pretty")
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter('{"level":"%(levelname)s","message":"%(message)s","payment_id":"qpp_1"}'))
    lg.addHandler(handler)
    lg.setLevel(logging.INFO)
    router.install()
    try:
        inv = Invocation(
            function="CreatePaymentFunction",
            name="qpay-local-CreatePaymentFunction",
            arn="arn:aws:lambda:us-east-1:123456789012:function:qpay-local-CreatePaymentFunction",
            request_id="0123456789abcdef",
            memory_mb=512,
            trigger=trigger_of({"rawPath": "/payments", "requestContext": {"http": {"method": "POST"}}}),
            cold_start=True,
            init_ms=321.0,
        )
        token = CURRENT.set(inv)
        try:
            router.start(inv)
            lg.info("payment created")
            router.end(inv, {"statusCode": 201}, None)
        finally:
            CURRENT.reset(token)
    finally:
        router.uninstall()
        lg.removeHandler(handler)
    first, summary = out.getvalue().splitlines()
    assert "CreatePaymentFunction" in first and "· payment created" in first and "payment_id=qpp_1" in first
    assert "CreatePaymentFunction" in summary and "POST /payments → 201" in summary
    assert "cold start 321 ms" in summary and "01234567" in summary


def test_triggers():
    assert trigger_of({"Records": [{"eventSource": "aws:dynamodb"}] * 3}) == "DynamoDB stream, 3 records"
    assert trigger_of({"task": "request", "payment_id": "x"}) == "Step Functions task request"
    assert trigger_of({}) == "schedule"
    assert trigger_of({"source": "aws.scheduler", "detail": {}}) == "schedule"


def test_pretty_condenses_metric_lines_printed_to_stdout(capsys):
    router = LogRouter("pretty", loggers=("qpay_local_test_metrics",))
    router.install(capture_stdout=True)
    try:
        print(
            '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"QPay","Dimensions":[["service"]],'
            '"Metrics":[{"Name":"SweepReconciled","Unit":"Count"}]}]},"service":"qpay","SweepReconciled":[0.0]}'
        )
        print("an ordinary line")
    finally:
        router.uninstall()
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("· metrics SweepReconciled=[0.0]")
    assert out[1] == "an ordinary line"


def test_concurrent_first_invocations_count_one_cold_start(tmp_path, monkeypatch):
    """The CI failure on a busy machine: a second thread decided "cold" before the first one's import
    finished, so one function had two cold starts. Forced here: the import waits until every thread has
    entered invoke."""
    import importlib
    import sys
    import types

    from qpay_local.runtime import LocalFunction, Runtime
    from qpay_local.template import FunctionDef

    module = types.ModuleType("slow_handler_mod")
    module.handler = lambda event, ctx: {"statusCode": 200}
    entered = threading.Barrier(4)
    real_import = importlib.import_module

    def slow_import(name, *args):
        if name == "slow_handler_mod":
            entered.wait(10)  # the other three threads are inside invoke by now
            sys.modules[name] = module
            return module
        return real_import(name, *args)

    monkeypatch.setattr(importlib, "import_module", slow_import)
    fn = LocalFunction(FunctionDef("Slow", "slow_handler_mod.handler", ".", 3, 128, {}), "slow", "arn:aws:lambda:x")
    colds = []

    class Observer:
        def start(self, inv):
            colds.append(inv.cold_start)

        def end(self, inv, result, error):
            pass

    runtime = Runtime({"Slow": fn}, tmp_path, observer=Observer())
    original_load = runtime._load

    def load_after_entering(f):
        if threading.current_thread().name != "importer":
            entered.wait(10)
        return original_load(f)

    runtime._load = load_after_entering
    threads = [threading.Thread(target=runtime.invoke, args=("Slow", {}), name="importer")]
    threads += [threading.Thread(target=runtime.invoke, args=("Slow", {})) for _ in range(3)]
    threads[0].start()
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(20)
    sys.modules.pop("slow_handler_mod", None)
    assert sorted(colds) == [False, False, False, True]
