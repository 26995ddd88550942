"""``make smoke``'s edge options end to end against the local stack put "behind an edge": the functions
get ORIGIN_VERIFY_SECRET_ID (as the template gives them under UseEdge) and a stand-in for CloudFront (an
httpx transport) forwards the smoke's requests to the local API adding ``x-origin-verify``. Every check
passes through it; straight to the origin, the request is refused; the latency check reports medians.
What only a real deploy measures: the edge's added latency (the figures here are two loopback hops)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from infra.tools import smoke
from qpay_local.stack import LocalStack

SECRET_NAME = "qpay-local-origin-verify"
VALUE = "v" * 64
EDGE = "http://edge.qpay.test"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    overrides = {"ORIGIN_VERIFY_SECRET_ID": SECRET_NAME}
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None, overrides=overrides) as s:
        s.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=json.dumps({"current": VALUE}))
        yield s


class FakeCloudFront(httpx.BaseTransport):
    """Requests to the edge go to the origin with the header CloudFront adds; others pass untouched."""

    def __init__(self, origin: str) -> None:
        self.origin = httpx.URL(origin)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == httpx.URL(EDGE).host:
            request.url = request.url.copy_with(scheme=self.origin.scheme, host=self.origin.host, port=self.origin.port)
            request.headers["x-origin-verify"] = VALUE
            request.headers["host"] = f"{self.origin.host}:{self.origin.port}"
        return self.inner.handle_request(request)


def test_every_check_passes_through_the_edge_and_the_origin_refuses_strangers(stack: LocalStack) -> None:
    with httpx.Client(transport=FakeCloudFront(stack.api_url), timeout=15.0) as client:
        checks = smoke.run(
            EDGE, stack.keys.merchant_api_key, http=client, origin_url=stack.api_url, origin_verify=VALUE, latency=5
        )
    by_name = {c.name: c for c in checks}
    assert all(c.ok for c in checks), checks
    assert by_name["origin refuses requests around the edge"].detail == "403"
    assert re.fullmatch(
        r"5 reads each: edge median \d+ ms \(p90 \d+\), origin median \d+ ms \(p90 \d+\); "
        r"the edge adds [+-]\d+ ms at the median from here",
        by_name["edge latency"].detail,
    )


def test_an_origin_that_answers_strangers_fails(stack: LocalStack) -> None:
    """Straight to the origin the smoke's own requests (no header) are refused: pointing --url at the
    origin, as if the edge were not there, fails at create."""
    checks = smoke.run(stack.api_url, stack.keys.merchant_api_key)
    assert checks[0].name == "create" and not checks[0].ok and checks[0].detail.startswith("403")


def test_latency_needs_the_origin_and_its_secret(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        smoke.main(["--url", "https://pay.example.qa", "--key", "k", "--latency", "5"])
    assert "--latency needs --origin-url and --origin-verify-secret" in capsys.readouterr().err
