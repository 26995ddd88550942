"""The replay CLI: which function gets a fixture, and that it tells the truth about how each ended."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import httpx
import pytest

from qpay_local import replay, state
from qpay_local.stack import DEFAULT_TEMPLATE, REPO_ROOT, LocalStack
from qpay_local.template import Template

T = Template(DEFAULT_TEMPLATE)
EVENTS = REPO_ROOT / "events"


def write(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def apigw(route_key, path, body=None, headers=None):
    method = route_key.split()[0]
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers or {},
        "requestContext": {"http": {"method": method, "path": path}, "routeKey": route_key, "stage": "$default"},
        "isBase64Encoded": False,
        **({"body": body} if body is not None else {}),
    }


def test_which_function(tmp_path):
    cases = {
        "api/get.json": (apigw("GET /payments/{id}", "/payments/qpp_x"), "GetPaymentFunction"),
        "webhooks/captured.json": ({"id": "evt_1", "type": "payment_captured", "data": {}}, "WebhookFunction"),
        "stream/ttl.json": ({"Records": [{"eventSource": "aws:dynamodb"}]}, "ExpiryFunction"),
        # a stream batch in a function's folder goes to that function, not the first stream consumer
        "OutboxFunction/batch.json": ({"Records": [{"eventSource": "aws:dynamodb"}]}, "OutboxFunction"),
        "schedule/tick.json": ({"source": "aws.events", "detail-type": "Scheduled Event"}, "SweepFunction"),
        "refund-tasks/request.json": ({"task": "request"}, "RefundTaskFunction"),
        "misc/x.json": ({"_meta": {"function": "SweepFunction"}, "a": 1}, "SweepFunction"),
    }
    for rel, (doc, want) in cases.items():
        fx = replay.load(write(tmp_path / rel, doc))
        assert replay.resolve_function(fx, T) == want, rel
    with pytest.raises(LookupError):
        replay.resolve_function(replay.load(write(tmp_path / "zzz" / "a.json", {"a": 1})), T)
    assert len(replay.collect([tmp_path])) == len(cases) + 1


def test_a_missing_path_is_one_line(capsys):
    assert replay.main(["events/webhooks"]) == 2
    err = capsys.readouterr().err
    assert err == "no such fixture or folder: events/webhooks\n"


def test_the_makefile_hint_names_a_folder_that_exists():
    line = next(ln for ln in (REPO_ROOT / "Makefile").read_text().splitlines() if ln.startswith("replay:"))
    (folder,) = re.findall(r'ARGS="([^" ]+)', line)
    assert (REPO_ROOT / folder).is_dir(), folder


def test_fixture_expectations_are_declared():
    meta = replay.load(EVENTS / "WebhookFunction" / "bad-signature.json").meta
    assert meta["keep_signature"] is True and meta["expect_status"] == 401
    assert replay.load(EVENTS / "CreatePaymentFunction" / "create-invalid.json").meta["expect_status"] == 422


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("state")
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None) as s:
        state.save_keys(folder / state.KEYS_FILE, s.local_keys, s.local_credentials)
        s.state_dir = folder
        # the simulator's own webhooks (for payments the create fixtures made) would cross the replays
        s.sim.webhooks.pause()
        yield s


def fixtures(*rels):
    return [replay.load(EVENTS / rel) for rel in rels]


def test_in_process_statuses_are_judged(stack, tmp_path):
    bearer = {"authorization": "Bearer mk_recorded_elsewhere"}  # replaced by this stack's merchant key
    write(
        tmp_path / "api" / "get.json",
        apigw("GET /payments/{id}", "/payments/qpp_aaaaaaaaaaaaaaaaaaaaaaaaaa", headers=bearer),
    )
    write(tmp_path / "api" / "nope.json", apigw("GET /nope", "/nope"))
    results = replay.replay_in_process(
        [replay.load(p) for p in replay.collect([tmp_path])], T, key=None, forced=None, stack=stack
    )
    by_name = {r.path.name: r for r in results}
    assert not by_name["get.json"].ok  # a 404 nobody declared is a failure
    assert "HTTP 404" in by_name["get.json"].detail and "expected 2xx" in by_name["get.json"].detail
    assert by_name["get.json"].hint.startswith("404:")
    assert not by_name["nope.json"].ok  # no such route


def test_in_process_create_fixtures_pass_with_this_runs_keys(stack):
    results = replay.replay_in_process(
        fixtures(
            "CreatePaymentFunction/create-merchant-key.json",
            "CreatePaymentFunction/create-order-token.json",
            "CreatePaymentFunction/create-invalid.json",
        ),
        T,
        key=None,
        forced=None,
        stack=stack,
    )
    assert [r.ok for r in results] == [True, True, True], [r.detail for r in results]
    assert "HTTP 201" in results[0].detail and "HTTP 201" in results[1].detail
    assert "HTTP 422" in results[2].detail


def test_bad_signature_is_refused_in_process_and_over_http(stack):
    (result,) = replay.replay_in_process(
        fixtures("WebhookFunction/bad-signature.json"), T, key=None, forced=None, stack=stack
    )
    assert result.ok and "HTTP 401" in result.detail
    seen = []
    stack.gateway.config.on_invoke = lambda fn, event: seen.append(event)
    try:
        fx = fixtures("WebhookFunction/bad-signature.json")
        (result,) = replay.replay_http(fx, T, url=stack.api_url, key=stack.keys.webhook_signing_key)
    finally:
        stack.gateway.config.on_invoke = None
    assert result.ok and "HTTP 401" in result.detail
    (sent,) = [e for e in seen if e["body"] == fx[0].event["body"]]
    assert sent["headers"]["cko-signature"] == fx[0].event["headers"]["cko-signature"]  # kept as recorded


def test_a_wrong_key_over_http_fails_with_a_hint(stack, capsys):
    rc = replay.main([str(EVENTS / "WebhookFunction" / "payment_captured.json"), "--url", stack.api_url, "--key", "no"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "FAIL" in out and "HTTP 401" in out and "0 ok, 1 failed" in out
    assert "hint: 401: is --key the stack's webhook signing key?" in out


def test_over_http_resigned_with_the_given_key(stack, tmp_path):
    seen = []
    stack.gateway.config.on_invoke = lambda fn, event: seen.append((fn, event))
    try:
        body = {"id": "evt_1", "type": "payment_pending", "data": {"id": "pay_1"}}
        write(tmp_path / "webhooks" / "w.json", body)
        (result,) = replay.replay_http([replay.load(tmp_path / "webhooks" / "w.json")], T, url=stack.api_url, key="k1")
    finally:
        stack.gateway.config.on_invoke = None
    ((fn, event),) = seen
    assert fn == "WebhookFunction"
    assert event["headers"]["cko-signature"] == hmac.new(b"k1", event["body"].encode(), hashlib.sha256).hexdigest()
    assert not result.ok and "401" in result.detail  # k1 is not the stack's key


def test_over_http_to_make_run_uses_its_keys_and_signs_iam_routes(stack, capsys):
    args = ["--url", stack.api_url, "--state-dir", str(stack.state_dir), "-v"]
    rc = replay.main(
        [
            # replayed in-process above too: the same merchant key and Idempotency-Key, the same token
            # (its jti names one payment) — both replay the payment already made
            str(EVENTS / "CreatePaymentFunction" / "create-merchant-key.json"),
            str(EVENTS / "CreatePaymentFunction" / "create-order-token.json"),
            str(EVENTS / "WebhookFunction"),
            str(EVENTS / "RefundRequestFunction"),
            *args,
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "FAIL" not in out
    assert out.count("HTTP 201") == 2, out  # this stack's merchant key and order-token key, from .local-state
    assert "403" not in out
    assert out.count("HTTP 404") == 2  # the refunds reached the handler: SigV4 passed, payment unknown
    assert '"code": "not_found"' in out or '"code":"not_found"' in out  # -v prints the bodies


def test_main_summary_counts_failures(stack, tmp_path, capsys):
    write(tmp_path / "api" / "nope.json", apigw("GET /nope", "/nope"))
    write(tmp_path / "api" / "declared.json", {**apigw("GET /nope", "/nope"), "_meta": {"expect_status": 404}})
    rc = replay.main([str(tmp_path), "--url", stack.api_url])
    out = capsys.readouterr().out
    assert rc == 1
    assert "1 ok, 1 failed" in out
    assert re.search(r"\[1/2\] ok .*declared\.json", out)
    assert httpx.get(stack.api_url + "/nope").status_code == 404


def test_over_http_stream_and_schedule_fixtures_are_skipped_and_counted_not_failed(stack, capsys):
    # U7: the repository's stream, scheduler and Step Functions fixtures cannot go over HTTP
    # (the merchant-key and IAM fixtures need make run's keys from .local-state: not this test's stack)
    keyed = ("WebhookFunction", "GetPaymentFunction", "CreatePaymentFunction", "RefundRequestFunction")
    fixtures = [str(p) for p in (REPO_ROOT / "events").iterdir() if p.is_dir() and p.name not in keyed]
    rc = replay.main([*fixtures, "--url", stack.api_url, "--key", stack.keys.webhook_signing_key])
    out = capsys.readouterr().out
    summary = out.strip().splitlines()[-1]
    skipped = int(re.search(r"(\d+) skipped", summary).group(1))
    assert skipped >= 10, summary
    assert out.count("SKIP ") == skipped
    assert "replay them in-process" in summary
    assert ", 0 failed" in summary, out
    assert rc == 0
