"""The gateway: template routes, payload 2.0 events, response mapping, CORS and SigV4 (no AWS needed)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.credentials import Credentials
from werkzeug.test import Client, EnvironBuilder

from qpay_local import sigv4
from qpay_local.apigw import Cors, Gateway, GatewayConfig, build_event, to_response
from qpay_local.stack import DEFAULT_TEMPLATE
from qpay_local.template import HttpRoute, Template

CREDS = Credentials("AKIALOCALTEST0000000", "secretsecretsecretsecretsecretsecret0000")
OTHER = Credentials("AKIALOCALTEST0000000", "wrongwrongwrongwrongwrongwrongwrong00000")
TEMPLATE = Template(DEFAULT_TEMPLATE)


def test_routes_are_exactly_the_templates_httpapi_events():
    expected = set()
    for fn_id, res in TEMPLATE.resources.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for ev in res["Properties"].get("Events", {}).values():
            if ev["Type"] == "HttpApi":
                p = ev["Properties"]
                iam = p.get("Auth", {}).get("Authorizer") == "AWS_IAM"
                expected.add((p["Method"].upper(), p["Path"], fn_id, iam))
    got = {(r.method, r.path, r.function, r.iam_auth) for r in TEMPLATE.http_routes()}
    assert got == expected
    assert ("POST", "/payments/{id}/refunds", "RefundRequestFunction", True) in got


def test_functions_merge_globals():
    fns = TEMPLATE.functions()
    g = TEMPLATE.globals
    for fn in fns.values():
        assert set(g["Environment"]["Variables"]) <= set(fn.environment)
        assert fn.code_uri == g["CodeUri"]
    assert fns["GetPaymentFunction"].timeout == 6
    assert "REFUND_STATE_MACHINE_ARN" in fns["RefundRequestFunction"].environment


class Fake:
    def __init__(self, result=None):
        self.calls = []
        self.result = result if result is not None else {"statusCode": 200, "body": "{}"}

    def __call__(self, function, event):
        self.calls.append((function, event))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def gateway(fake, cors=None) -> Client:
    config = GatewayConfig(
        routes=TEMPLATE.http_routes(),
        invoke=fake,
        credentials=CREDS,
        region="us-east-1",
        account_id="123456789012",
        api_id="abc123",
        cors=cors,
        iam_user_arn="arn:aws:iam::123456789012:user/merchant",
        iam_user_id="AIDATEST",
    )
    return Client(Gateway(config))


def test_v2_event_shape():
    route = HttpRoute("GET", "/payments/{id}", "GetPaymentFunction", "Get", False)
    env = EnvironBuilder(
        path="/payments/qpp_1",
        query_string="a=1&a=2&b=x%20y",
        headers={"Cookie": "c1=v1; c2=v2", "User-Agent": "ua/1", "X-Multi": "one", "Host": "127.0.0.1:3000"},
    ).get_environ()
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
    ev = build_event(
        env, b"", route=route, path_params={"id": "qpp_1"}, api_id="abc123", account_id="123456789012", now=now
    )
    assert ev["version"] == "2.0"
    assert ev["routeKey"] == "GET /payments/{id}"
    assert ev["rawPath"] == "/payments/qpp_1"
    assert ev["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert ev["cookies"] == ["c1=v1", "c2=v2"]
    assert "cookie" not in ev["headers"]
    assert all(k == k.lower() for k in ev["headers"])
    assert ev["headers"]["user-agent"] == "ua/1"
    assert ev["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert ev["pathParameters"] == {"id": "qpp_1"}
    assert ev["isBase64Encoded"] is False
    assert "body" not in ev
    rc = ev["requestContext"]
    assert rc["accountId"] == "123456789012"
    assert rc["apiId"] == "abc123"
    assert rc["domainName"] == "127.0.0.1"
    assert rc["http"] == {
        "method": "GET",
        "path": "/payments/qpp_1",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "ua/1",
    }
    assert rc["routeKey"] == "GET /payments/{id}"
    assert rc["stage"] == "$default"
    assert rc["time"] == "01/Mar/2024:12:00:00 +0000"
    assert rc["timeEpoch"] == int(now.timestamp() * 1000)
    assert rc["requestId"]
    assert "authorizer" not in rc


def test_binary_bodies_are_base64():
    route = HttpRoute("POST", "/payments", "CreatePaymentFunction", "Create", False)
    env = EnvironBuilder(path="/payments", method="POST", content_type="application/octet-stream").get_environ()
    ev = build_event(env, b"\x00\xff", route=route, path_params={}, api_id="a", account_id="1")
    assert ev["isBase64Encoded"] is True
    assert base64.b64decode(ev["body"]) == b"\x00\xff"
    env = EnvironBuilder(path="/payments", method="POST", content_type="application/json").get_environ()
    ev = build_event(env, b'{"a":1}', route=route, path_params={}, api_id="a", account_id="1")
    assert (ev["body"], ev["isBase64Encoded"]) == ('{"a":1}', False)


def test_response_mapping():
    r = to_response({"hello": "world"})  # no statusCode: 200 JSON
    assert (r.status_code, r.headers["Content-Type"], json.loads(r.get_data())) == (
        200,
        "application/json",
        {"hello": "world"},
    )
    r = to_response({"statusCode": 201, "headers": {"X-A": "b"}, "body": "hi", "cookies": ["s=1; Path=/", "t=2"]})
    assert r.status_code == 201
    assert r.headers["X-A"] == "b"
    assert r.headers.getlist("Set-Cookie") == ["s=1; Path=/", "t=2"]
    assert r.get_data() == b"hi"
    r = to_response({"statusCode": 200, "body": base64.b64encode(b"\x01\x02").decode(), "isBase64Encoded": True})
    assert r.get_data() == b"\x01\x02"


def test_routing_and_not_found():
    fake = Fake()
    c = gateway(fake)
    assert c.get("/payments/qpp_abc").status_code == 200
    assert fake.calls[-1][0] == "GetPaymentFunction"
    assert fake.calls[-1][1]["pathParameters"] == {"id": "qpp_abc"}
    assert c.get("/payments/return/success?cko-session-id=x").status_code == 200
    assert fake.calls[-1][0] == "PaymentReturnFunction"  # the static route wins over {id}
    r = c.get("/nope")
    assert (r.status_code, r.get_json()) == (404, {"message": "Not Found"})
    assert c.delete("/payments/qpp_abc").status_code == 404  # wrong method
    fake.result = RuntimeError("boom")
    r = c.get("/payments/qpp_abc")
    assert (r.status_code, r.get_json()) == (500, {"message": "Internal Server Error"})


def test_cors_preflight_and_actual_responses():
    cors = Cors.from_config(
        {
            "AllowOrigins": ["http://shop.local"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type"],
            "MaxAge": 600,
        }
    )
    fake = Fake()
    c = gateway(fake, cors)
    r = c.options("/payments", headers={"Origin": "http://shop.local", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "http://shop.local"
    assert r.headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert r.headers["Access-Control-Allow-Headers"] == "content-type"
    assert r.headers["Access-Control-Max-Age"] == "600"
    r = c.options("/payments", headers={"Origin": "http://evil.local", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert "Access-Control-Allow-Origin" not in r.headers
    assert fake.calls == []  # preflight never reaches a handler
    r = c.post("/payments", headers={"Origin": "http://shop.local"}, data="{}")
    assert r.headers["Access-Control-Allow-Origin"] == "http://shop.local"
    r = c.post("/payments", headers={"Origin": "http://evil.local"}, data="{}")
    assert "Access-Control-Allow-Origin" not in r.headers


def test_template_cors_is_used():
    assert TEMPLATE.cors()["AllowHeaders"] == ["content-type", "idempotency-key", "x-order-token", "x-client-secret"]


REFUND_PATH = "/payments/qpp_aaaaaaaaaaaaaaaaaaaaaaaaaa/refunds"


def signed(body: bytes, creds=CREDS, path=REFUND_PATH, region="us-east-1"):
    return sigv4.sign_headers(
        method="POST",
        url=f"http://localhost{path}",
        body=body,
        credentials=creds,
        region=region,
        headers={"content-type": "application/json"},
    )


@pytest.mark.parametrize("case", ["ok", "unsigned", "wrong-key", "tampered", "wrong-region", "stale"])
def test_sigv4_on_iam_routes(case):
    fake = Fake({"statusCode": 202, "body": "{}"})
    c = gateway(fake)
    body = b'{"amount": 100}'
    headers = (
        {}
        if case == "unsigned"
        else signed(
            body, OTHER if case == "wrong-key" else CREDS, region="eu-west-1" if case == "wrong-region" else "us-east-1"
        )
    )
    sent = b'{"amount": 999}' if case == "tampered" else body
    if case == "stale":
        old = datetime.now(UTC) - timedelta(minutes=6)
        with pytest.raises(sigv4.SignatureError, match="expired"):
            sigv4.verify(
                method="POST",
                url=f"http://localhost{REFUND_PATH}",
                headers=headers,
                body=body,
                credentials=CREDS,
                region="us-east-1",
                now=old + timedelta(minutes=12),
            )
        return
    r = c.post(REFUND_PATH, data=sent, headers=headers)
    if case == "ok":
        assert r.status_code == 202
        ((fn, event),) = fake.calls
        assert fn == "RefundRequestFunction"
        iam = event["requestContext"]["authorizer"]["iam"]
        assert iam["accessKey"] == CREDS.access_key
        assert iam["accountId"] == "123456789012"
        assert iam["userArn"] == "arn:aws:iam::123456789012:user/merchant"
        assert set(iam) >= {"accessKey", "accountId", "callerId", "principalOrgId", "userArn", "userId"}
    else:
        assert (r.status_code, r.get_json()) == (403, {"message": "Forbidden"})
        assert fake.calls == []


def test_non_iam_routes_need_no_signature():
    fake = Fake()
    assert gateway(fake).get("/payments/qpp_x").status_code == 200
    assert "authorizer" not in fake.calls[0][1]["requestContext"]


def test_extra_wsgi_apps_are_mounted():
    def shop(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"shop:{environ['SCRIPT_NAME']}:{environ['PATH_INFO']}".encode()]

    config = GatewayConfig(
        routes=[],
        invoke=Fake(),
        credentials=CREDS,
        region="us-east-1",
        account_id="1",
        api_id="a",
        extra_apps={"/shop": shop},
    )
    c = Client(Gateway(config))
    assert c.get("/shop/result").get_data() == b"shop:/shop:/result"
    assert c.get("/shopping").status_code == 404
