"""The replay CLI: which function gets a fixture, in-process and over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from qpay_local import replay
from qpay_local.stack import DEFAULT_TEMPLATE, LocalStack
from qpay_local.template import Template

T = Template(DEFAULT_TEMPLATE)


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


def test_replay_in_process_and_over_http(tmp_path, capsys):
    write(tmp_path / "api" / "get.json", apigw("GET /payments/{id}", "/payments/qpp_aaaaaaaaaaaaaaaaaaaaaaaaaa"))
    write(tmp_path / "api" / "nope.json", apigw("GET /nope", "/nope"))
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None) as stack:
        fixtures = [replay.load(p) for p in replay.collect([tmp_path])]
        results = replay.replay_in_process(fixtures, T, key=None, forced=None, stack=stack)
        by_name = {r.path.name: r for r in results}
        assert by_name["get.json"].ok
        assert "HTTP 401" in by_name["get.json"].detail  # reading a payment needs credentials
        assert not by_name["nope.json"].ok  # no such route

        seen = []

        def capture(function, event):
            seen.append((function, event))

        stack.gateway.config.on_invoke = capture
        body = {"id": "evt_1", "type": "payment_pending", "data": {"id": "pay_1"}}
        write(tmp_path / "webhooks" / "w.json", body)
        results = replay.replay_http([replay.load(tmp_path / "webhooks" / "w.json")], T, url=stack.api_url, key="k1")
        assert len(results) == 1
        ((fn, event),) = seen
        assert fn == "WebhookFunction"
        sent = event["body"].encode()
        assert event["headers"]["cko-signature"] == hmac.new(b"k1", sent, hashlib.sha256).hexdigest()
        assert httpx.get(stack.api_url + "/nope").status_code == 404


def test_main_summary(tmp_path, capsys, monkeypatch):
    write(tmp_path / "api" / "nope.json", apigw("GET /nope", "/nope"))
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None) as stack:
        rc = replay.main([str(tmp_path), "--url", stack.api_url])
    out = capsys.readouterr().out
    assert rc == 0  # 404 is a handled answer over HTTP
    assert "1 ok, 0 failed" in out
    assert "[1/1]" in out
