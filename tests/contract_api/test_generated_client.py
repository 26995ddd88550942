"""A client generated from openapi.json (openapi-python-client, offline, into a temp dir) drives the
local stack: create with the merchant key and with an order token, read with the merchant key and with
the client secret, refund with SigV4. Every answer the stack gives, errors included, has its status
documented for its operation and its body validates against the documented schema."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from jsonschema import Draft202012Validator

from qpay.api.auth import mint_order_token
from qpay_local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "qpay_openapi_client"  # not qpay_client: that is the packaged client (clients/python), imported too
NATIONAL_ID = "28763400000"  # synthetic


@pytest.fixture(scope="module")
def client_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Generate the client from the committed openapi.json (no network: the generator is a dev dep)."""
    out = tmp_path_factory.mktemp("generated")
    config = out / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: the generated code is used, not committed
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(ROOT / "openapi.json"),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr  # nothing skipped
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(api_port=0, sim_port=0, time_scale=0.001, schedule_interval_s=None) as s:
        yield s


def api(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


class SigV4(httpx.Auth):
    """What a merchant's back office adds to the generated client for the IAM-only refund route."""

    requires_request_body = True

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signed = AWSRequest(
            request.method,
            str(request.url),
            data=request.content,
            headers={k: v for k, v in request.headers.items() if k.lower() in ("content-type", "idempotency-key")},
        )
        SigV4Auth(self.stack.botocore_credentials, "execute-api", self.stack.region).add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        yield request


def documented(path: str, method: str, response: Any) -> None:
    """The answer's status is documented for this operation and its body matches that schema."""
    from qpay.api.openapi import document

    doc = document()
    responses = doc["paths"][path][method]["responses"]
    status = str(int(response.status_code))
    assert status in responses, (path, method, status, response.content)
    content = responses[status].get("content")
    if content is None:
        return
    schema = {**content["application/json"]["schema"], "components": doc["components"]}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(json.loads(response.content))]
    assert errors == [], (path, method, status, errors)


def merchant(client_module: Any, stack: LocalStack) -> Any:
    return client_module.AuthenticatedClient(base_url=stack.api_url, token=stack.keys.merchant_api_key)


def body(reference: str, amount: int = 12500, **extra: Any) -> Any:
    return model("CreatePaymentRequest").from_dict(
        {
            "reference": reference,
            "amount": amount,
            "currency": "QAR",
            "description": "Generated client order",
            "national_id": NATIONAL_ID,
            **extra,
        }
    )


def wait_for_status(stack: LocalStack, client: Any, payment_id: str, status: str) -> Any:
    get_payment = api("payments.get_payment")
    deadline = time.monotonic() + 20
    while True:
        view = get_payment.sync(payment_id, client=client)
        if view.status.value == status or time.monotonic() > deadline:
            assert view.status.value == status
            return view
        time.sleep(0.1)


def test_create_then_read_with_the_merchant_key_and_with_the_client_secret(
    client_module: Any, stack: LocalStack
) -> None:
    create_payment = api("payments.create_payment")
    get_payment = api("payments.get_payment")
    server = merchant(client_module, stack)
    reference = "ORD-GEN-" + uuid.uuid4().hex[:8].upper()
    key = "create-" + reference

    created = create_payment.sync_detailed(
        client=server,
        body=body(reference, language="ar", customer={"email": "shopper@example.com"}, metadata={"cart": "c-1"}),
        idempotency_key=key,
    )
    assert created.status_code == 201, created.content
    documented("/payments", "post", created)
    payment = created.parsed
    assert isinstance(payment, model("CreatePaymentResponse"))
    assert (payment.reference, payment.amount, payment.currency, payment.status.value) == (
        reference,
        12500,
        "QAR",
        "Pending",
    )
    assert payment.client_secret.startswith(payment.id)
    assert created.headers["Location"] == f"/payments/{payment.id}"

    replay = create_payment.sync_detailed(client=server, body=body(reference), idempotency_key=key)
    assert replay.status_code == 409  # same key, another body (no language/customer/metadata)
    documented("/payments", "post", replay)
    assert replay.parsed.code == "conflict"
    again = create_payment.sync_detailed(
        client=server,
        body=body(reference, language="ar", customer={"email": "shopper@example.com"}, metadata={"cart": "c-1"}),
        idempotency_key=key,
    )
    assert (again.status_code, again.headers.get("Idempotent-Replayed"), again.parsed.id) == (201, "true", payment.id)

    as_merchant = get_payment.sync_detailed(payment.id, client=server)
    assert as_merchant.status_code == 200
    documented("/payments/{id}", "get", as_merchant)
    view = as_merchant.parsed
    assert (view.id, view.status.value, view.amount) == (payment.id, "Pending", 12500)
    assert view.cko_payment_id.startswith("pay_")  # merchant reads only
    assert view.redirect_url == payment.redirect_url

    browser = client_module.AuthenticatedClient(
        base_url=stack.api_url, token=payment.client_secret, prefix="", auth_header_name="X-Client-Secret"
    )
    as_browser = get_payment.sync_detailed(payment.id, client=browser)
    assert as_browser.status_code == 200
    documented("/payments/{id}", "get", as_browser)
    assert as_browser.parsed.id == payment.id
    assert "cko_payment_id" not in json.loads(as_browser.content)  # not for the browser
    # the header parameter works the same way
    as_param = get_payment.sync_detailed(
        payment.id,
        client=client_module.AuthenticatedClient(
            base_url=stack.api_url, token="", prefix="", auth_header_name="X-Unused"
        ),
        x_client_secret=payment.client_secret,
    )
    assert as_param.status_code == 200

    wrong = get_payment.sync_detailed(
        payment.id,
        client=client_module.AuthenticatedClient(
            base_url=stack.api_url, token=payment.id + "_secret_wrong", prefix="", auth_header_name="X-Client-Secret"
        ),
    )
    assert wrong.status_code == 404
    documented("/payments/{id}", "get", wrong)
    assert wrong.parsed.code == "not_found"

    no_credentials = httpx.get(f"{stack.api_url}/payments/{payment.id}")
    assert no_credentials.status_code == 401
    documented("/payments/{id}", "get", no_credentials)


def test_the_browser_creates_with_an_order_token(client_module: Any, stack: LocalStack) -> None:
    create_payment = api("payments.create_payment")
    reference = "ORD-TOK-" + uuid.uuid4().hex[:8].upper()
    token = mint_order_token(
        stack.keys.order_token_key,
        kid=stack.keys.order_token_kid,
        reference=reference,
        amount=4200,
        currency="QAR",
        expires_at=int(time.time()) + 900,
    )
    browser = client_module.AuthenticatedClient(
        base_url=stack.api_url, token=token, prefix="", auth_header_name="X-Order-Token"
    )
    created = create_payment.sync_detailed(client=browser, body=body(reference, amount=4200))
    assert created.status_code == 201, created.content
    documented("/payments", "post", created)

    tampered = create_payment.sync_detailed(client=browser, body=body(reference, amount=100))
    assert tampered.status_code == 403
    documented("/payments", "post", tampered)
    assert [(f.field, f.issue) for f in tampered.parsed.fields] == [("amount", "does not match the order token")]


def test_errors_are_the_documented_ones(client_module: Any, stack: LocalStack) -> None:
    create_payment = api("payments.create_payment")
    server = merchant(client_module, stack)
    url = f"{stack.api_url}/payments"
    auth = {"Authorization": f"Bearer {stack.keys.merchant_api_key}"}

    missing = httpx.post(url, headers=auth, json={"reference": "ORD-X1", "amount": 100, "currency": "QAR"})
    assert missing.status_code == 422
    documented("/payments", "post", missing)
    assert {f["field"] for f in missing.json()["fields"]} == {"description", "national_id"}

    for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": "Basic x"}, 401)):
        r = httpx.post(url, headers=headers, json={})
        assert r.status_code == status
        documented("/payments", "post", r)

    too_large = httpx.post(url, headers=auth, content=b'{"a":"' + b"x" * 20_000 + b'"}')
    assert too_large.status_code == 413
    documented("/payments", "post", too_large)

    reference = "ORD-LIVE-" + uuid.uuid4().hex[:6].upper()
    first = create_payment.sync_detailed(client=server, body=body(reference), idempotency_key="a-" + reference)
    assert first.status_code == 201
    live = create_payment.sync_detailed(client=server, body=body(reference), idempotency_key="b-" + reference)
    assert live.status_code == 409
    documented("/payments", "post", live)

    assert stack.sim is not None
    stack.sim.faults.fail_next(5, 503, "/payments", method="POST")
    try:
        down = create_payment.sync_detailed(
            client=server, body=body("ORD-DOWN-" + uuid.uuid4().hex[:6].upper()), idempotency_key=uuid.uuid4().hex
        )
    finally:
        stack.sim.faults.reset()
    assert down.status_code == 503
    documented("/payments", "post", down)
    assert down.parsed.code == "checkout_unavailable"


def test_refund_with_sigv4_through_the_generated_client(client_module: Any, stack: LocalStack) -> None:
    create_payment = api("payments.create_payment")
    refund_payment = api("refunds.refund_payment")
    server = merchant(client_module, stack)
    reference = "ORD-REF-" + uuid.uuid4().hex[:8].upper()
    payment = create_payment.sync(client=server, body=body(reference), idempotency_key=reference)
    back_office = client_module.AuthenticatedClient(
        base_url=stack.api_url, token="", prefix="", auth_header_name="X-Unused", httpx_args={"auth": SigV4(stack)}
    )
    refund_body = model("RefundRequest").from_dict({"amount": 2500, "reason": "one item returned"})

    early = refund_payment.sync_detailed(payment.id, client=back_office, body=refund_body, idempotency_key="r-0")
    assert early.status_code == 409  # not captured yet
    documented("/payments/{id}/refunds", "post", early)

    assert stack.sim is not None
    stack.sim.pay(payment.redirect_url.split("pun=")[1])
    wait_for_status(stack, server, payment.id, "Captured")

    refunded = refund_payment.sync_detailed(payment.id, client=back_office, body=refund_body, idempotency_key="r-1")
    assert refunded.status_code == 202, refunded.content
    documented("/payments/{id}/refunds", "post", refunded)
    assert (refunded.parsed.payment_id, refunded.parsed.amount) == (payment.id, 2500)

    unsigned = httpx.post(
        f"{stack.api_url}/payments/{payment.id}/refunds", json={"amount": 100}, headers={"Idempotency-Key": "r-2"}
    )
    assert unsigned.status_code == 403
    documented("/payments/{id}/refunds", "post", unsigned)
    assert set(unsigned.json()) == {"message"}

    signed_without_key = httpx.post(
        f"{stack.api_url}/payments/{payment.id}/refunds", json={"amount": 100}, auth=SigV4(stack)
    )
    assert signed_without_key.status_code == 422
    documented("/payments/{id}/refunds", "post", signed_without_key)
    assert signed_without_key.json()["fields"] == [{"field": "Idempotency-Key", "issue": "required"}]

    too_much = refund_payment.sync_detailed(
        payment.id,
        client=back_office,
        body=model("RefundRequest").from_dict({"amount": 1_000_000}),
        idempotency_key="r-3",
    )
    assert too_much.status_code == 422
    documented("/payments/{id}/refunds", "post", too_much)
    assert too_much.parsed.code == "amount_exceeds_balance"
