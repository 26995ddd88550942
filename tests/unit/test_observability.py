"""Log lines and metrics as CloudWatch reads them: one JSON object per line with the invocation's fields,
levels from Lambda's configuration, and EMF metrics the alarms match by namespace, dimension and name."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from qpay import clock, observability
from qpay.observability import JsonFormatter, Logger, metric


class Context:
    function_name = "qpay-create"
    aws_request_id = "req-1"


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> Iterator[Logger]:
    monkeypatch.delenv("AWS_LAMBDA_LOG_LEVEL", raising=False)
    monkeypatch.delenv("POWERTOOLS_LOG_LEVEL", raising=False)
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    out = Logger("qpay-test-observability")
    out.use_stderr(False)
    token = observability._fields.set(None)  # keys another test appended outside an invocation
    try:
        yield out
    finally:
        observability._fields.reset(token)


def test_a_line_is_one_json_object_with_level_message_time_service_and_extras(
    log: Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    log.warning("checkout retry", extra={"attempt": 2, "when": time})
    (line,) = lines(capsys.readouterr().out)
    assert line["level"] == "WARNING"
    assert line["message"] == "checkout retry"
    assert line["service"] == observability.SERVICE
    assert line["attempt"] == 2
    assert line["when"].startswith("<module 'time'")  # anything unserialisable is written as text
    assert time.strptime(line["timestamp"][:19], "%Y-%m-%dT%H:%M:%S")
    assert line["timestamp"].endswith("Z")
    assert len(line["timestamp"]) == 24  # milliseconds, three digits


def test_each_level_writes_its_name(log: Logger, capsys: pytest.CaptureFixture[str]) -> None:
    log.debug("d")
    log.info("i")
    log.error("e")
    assert [(x["level"], x["message"]) for x in lines(capsys.readouterr().out)] == [
        ("DEBUG", "d"),
        ("INFO", "i"),
        ("ERROR", "e"),
    ]


def test_an_exception_line_names_the_exception(log: Logger, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise KeyError("x")
    except KeyError:
        log.exception("failed")
    (line,) = lines(capsys.readouterr().out)
    assert (line["level"], line["exception_name"]) == ("ERROR", "KeyError")
    assert "Traceback" in line["exception"]
    log.error("no exception here")
    (plain,) = lines(capsys.readouterr().out)
    assert "exception" not in plain
    assert "exception_name" not in plain


@pytest.mark.parametrize(
    ("variables", "debug_shown", "info_shown"),
    [
        ({}, False, True),
        ({"AWS_LAMBDA_LOG_LEVEL": "debug"}, True, True),
        ({"AWS_LAMBDA_LOG_LEVEL": "WARN", "LOG_LEVEL": "DEBUG"}, False, False),
        ({"POWERTOOLS_LOG_LEVEL": "ERROR"}, False, False),
        ({"LOG_LEVEL": "nonsense"}, False, True),
        ({"AWS_LAMBDA_LOG_LEVEL": "nonsense", "LOG_LEVEL": "DEBUG"}, True, True),
    ],
)
def test_the_level_comes_from_lambdas_configuration_first(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    debug_shown: bool,
    info_shown: bool,
) -> None:
    for name in ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    log = Logger("qpay-test-levels")
    log.debug("d")
    log.info("i")
    shown = {x["message"] for x in lines(capsys.readouterr().out)}
    assert ("d" in shown, "i" in shown) == (debug_shown, info_shown)


def test_the_invocations_fields_are_on_every_line_and_cleared_after(
    log: Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    observability._state["cold"] = True

    @log.inject_lambda_context()
    def handler(event: Any, context: Any) -> str:
        log.set_correlation_id("corr-1")
        log.append_keys(payment_id="qpp_1")
        log.info("inside")
        return "done"

    assert handler({}, Context()) == "done"
    assert handler({}, Context()) == "done"
    log.info("outside")
    first, second, outside = lines(capsys.readouterr().out)
    assert first["function_name"] == "qpay-create"
    assert first["function_request_id"] == "req-1"
    assert (first["cold_start"], second["cold_start"]) == (True, False)
    assert (first["correlation_id"], first["payment_id"]) == ("corr-1", "qpp_1")
    assert "function_name" not in outside
    assert "payment_id" not in outside
    assert log.fields() == {}


def test_keys_appended_before_an_invocation_survive_only_without_clear_state(
    log: Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    @log.inject_lambda_context(clear_state=False)
    def keeps(event: Any, context: Any) -> None:
        log.info("kept")

    @log.inject_lambda_context()
    def clears(event: Any, context: Any) -> None:
        log.info("cleared")

    token = observability._fields.set({"tenant": "t1"})
    try:
        keeps({}, Context())
        clears({}, Context())
    finally:
        observability._fields.reset(token)
    kept, cleared = lines(capsys.readouterr().out)
    assert kept["tenant"] == "t1"
    assert "tenant" not in cleared


def test_a_command_line_tool_can_move_lines_to_stderr(log: Logger, capsys: pytest.CaptureFixture[str]) -> None:
    log.use_stderr()
    log.info("to stderr")
    got = capsys.readouterr()
    assert got.out == ""
    assert lines(got.err)[0]["message"] == "to stderr"
    log.use_stderr(False)
    log.info("back")
    assert lines(capsys.readouterr().out)[0]["message"] == "back"


def test_lines_do_not_reach_the_root_logger_twice(log: Logger) -> None:
    assert log.std.propagate is False
    ours = [h for h in log.std.handlers if isinstance(h, observability._StdoutHandler)]
    assert len(ours) == 1
    again = Logger("qpay-test-observability").std.handlers
    assert [h for h in again if isinstance(h, observability._StdoutHandler)] == ours  # not a second one


def test_the_formatter_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, "", 0, "hello %s", ("you",), None)
    record.created = 0.0
    record.msecs = 7.0
    doc = json.loads(JsonFormatter().format(record))
    assert doc == {"level": "INFO", "message": "hello you", "timestamp": "1970-01-01T00:00:00.007Z", "service": "qpay"}


def test_a_metric_is_one_emf_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "QPayTest")
    before = int(time.time() * 1000)
    metric("RefundsStuck", 3, unit="Seconds")
    (doc,) = lines(capsys.readouterr().out)
    assert before <= doc["_aws"]["Timestamp"] <= int(time.time() * 1000)
    assert doc["_aws"]["CloudWatchMetrics"] == [
        {"Namespace": "QPayTest", "Dimensions": [["service"]], "Metrics": [{"Name": "RefundsStuck", "Unit": "Seconds"}]}
    ]
    assert doc["service"] == observability.SERVICE
    assert doc["RefundsStuck"] == [3.0]
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    metric("Other")
    (doc,) = lines(capsys.readouterr().out)
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "QPay"
    assert doc["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "Other", "Unit": "Count"}]
    assert doc["Other"] == [1.0]


def test_a_new_logger_writes_compact_json_to_stdout_keeping_arabic_readable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    fresh = Logger(f"qpay-test-{uuid.uuid4().hex}")  # a logger never made before: its own handler
    fresh.info("تم الدفع", extra={"k": 1})
    got = capsys.readouterr()
    assert got.err == ""
    (raw,) = got.out.splitlines()
    assert '"message":"تم الدفع"' in raw  # compact separators, no \\u escapes
    assert json.loads(raw)["k"] == 1


def test_extras_reach_the_line_at_every_level(log: Logger, capsys: pytest.CaptureFixture[str]) -> None:
    log.debug("d", extra={"n": 1})
    log.info("i", extra={"n": 2})
    log.error("e", extra={"n": 3})
    try:
        raise ValueError("x")
    except ValueError:
        log.exception("x", extra={"n": 4})
    assert [x["n"] for x in lines(capsys.readouterr().out)] == [1, 2, 3, 4]


def test_the_default_logger_is_the_packages() -> None:
    assert Logger().std is logging.getLogger("qpay")
    assert observability.logger.std is logging.getLogger("qpay")


def test_the_clock_is_whole_seconds_of_the_wall_clock() -> None:
    before = int(time.time())
    now = clock.now()
    assert type(now) is int
    assert before <= now <= int(time.time())
