"""POST /payments, GET /payments/{id|sid}, actions: auth, validation, shapes, session expiry."""

from __future__ import annotations

import re

import httpx
import pytest
from simhelpers import AUTH, NATIONAL_ID, SECRET_KEY, create, qpay_body

from cko_sim import Simulator

ID_RE = r"[a-z2-7]{26}"


def test_create_returns_202_pending_with_checkout_shape(client: httpx.Client, sim: Simulator) -> None:
    response = client.post("/payments", json=qpay_body())
    assert response.status_code == 202
    body = response.json()
    assert re.fullmatch(rf"pay_{ID_RE}", body["id"])
    assert body["status"] == "Pending"
    assert body["reference"] == "ORD-1"
    assert re.fullmatch(rf"cus_{ID_RE}", body["customer"]["id"])
    assert body["_links"]["self"]["href"] == f"{sim.base_url}/payments/{body['id']}"
    redirect = body["_links"]["redirect"]["href"]
    assert redirect.startswith(f"{sim.base_url}/qpay-external/redirect-to-qpay?pun=")
    assert NATIONAL_ID not in response.text


@pytest.mark.parametrize(
    "header",
    [f"Bearer {SECRET_KEY}", SECRET_KEY, "Bearer sk_sbox_" + "a2" * 13 + "="],
)
def test_any_sandbox_format_key_is_accepted(sim: Simulator, header: str) -> None:
    r = httpx.post(f"{sim.base_url}/payments", json=qpay_body(), headers={"Authorization": header})
    assert r.status_code == 202


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "sk_test_" + "a" * 27,
        "sk_sbox_" + "a" * 26,  # too short
        "sk_sbox_" + "A" * 27,  # uppercase
        "sk_sbox_" + "a" * 26 + "!",  # bad last char
        "sk_sbox_" + "1" * 27,  # 1 is not base32
        "pk_sbox_" + "a" * 27,
    ],
)
def test_bad_keys_get_401_with_empty_body(sim: Simulator, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in [("POST", "/payments"), ("GET", "/payments/pay_x"), ("POST", "/payments/pay_x/refunds")]:
        r = httpx.request(method, f"{sim.base_url}{path}", json=qpay_body(), headers=headers)
        assert r.status_code == 401
        assert r.content == b""


def test_configured_secret_key_is_strict(make_sim) -> None:
    strict = "sk_sbox_" + "q" * 26 + "$"
    sim = make_sim(secret_key=strict)
    ok = httpx.post(f"{sim.base_url}/payments", json=qpay_body(), headers={"Authorization": strict})
    assert ok.status_code == 202
    other = httpx.post(f"{sim.base_url}/payments", json=qpay_body(), headers=AUTH)
    assert other.status_code == 401
    assert other.content == b""


def _codes(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_type"] == "request_invalid"
    assert body["request_id"]
    return list(body["error_codes"])


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"amount": 0}, "amount_invalid"),
        ({"amount": -5}, "amount_invalid"),
        ({"amount": 10.5}, "amount_invalid"),
        ({"amount": "100"}, "amount_invalid"),
        ({"amount": True}, "amount_invalid"),
        ({"amount": None}, "amount_required"),
        ({"currency": None}, "currency_required"),
        ({"currency": "USD"}, "currency_invalid"),
        ({"currency": "qar"}, "currency_invalid"),
        ({"source": None}, "payment_source_required"),
        ({"source": {}}, "payment_source_required"),
        ({"source": {"description": "x"}}, "source_type_required"),
        ({"source": {"type": "card", "description": "x"}}, "payment_method_not_supported"),
        ({"source": {"type": "qpay"}}, "description_required"),
        ({"source": {"type": "qpay", "description": "x", "language": "fr"}}, "language_invalid"),
        ({"source": {"type": "qpay", "description": "x", "quantity": 0}}, "quantity_invalid"),
        ({"source": {"type": "qpay", "description": "x", "quantity": "many"}}, "quantity_invalid"),
        ({"source": {"type": "qpay", "description": "x", "national_id": 123}}, "national_id_invalid"),
        ({"success_url": "/relative"}, "success_url_invalid"),
        ({"success_url": "ftp://shop.example/x"}, "success_url_invalid"),
        ({"failure_url": "javascript:alert(1)"}, "fail_url_invalid"),
        ({"failure_url": "shop.example/fail"}, "fail_url_invalid"),
        ({"reference": "x" * 51}, "reference_invalid"),
        ({"metadata": ["not", "an", "object"]}, "metadata_invalid"),
        ({"processing_channel_id": "pc_bad"}, "processing_channel_id_invalid"),
    ],
)
def test_validation_error_codes(client: httpx.Client, overrides: dict, code: str) -> None:
    body = qpay_body()
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    response = client.post("/payments", json=body)
    assert code in _codes(response)
    assert NATIONAL_ID not in response.text


def test_several_errors_are_reported_together(client: httpx.Client) -> None:
    codes = _codes(client.post("/payments", json=qpay_body(amount=-1, currency="EUR", success_url="nope")))
    assert {"amount_invalid", "currency_invalid", "success_url_invalid"} <= set(codes)


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b'"text"'])
def test_malformed_json(client: httpx.Client, raw: bytes) -> None:
    response = client.post("/payments", content=raw, headers={"Content-Type": "application/json"})
    assert _codes(response) == ["request_json_invalid"]


def test_processing_channel_required_when_configured(make_sim) -> None:
    sim = make_sim(require_processing_channel=True)
    with httpx.Client(base_url=sim.base_url, headers=AUTH) as c:
        assert _codes(c.post("/payments", json=qpay_body())) == ["processing_channel_id_required"]
        ok = c.post("/payments", json=qpay_body(processing_channel_id="pc_" + "a" * 26))
        assert ok.status_code == 202
        got = c.get(f"/payments/{ok.json()['id']}").json()
        assert got["processing_channel_id"] == "pc_" + "a" * 26


def test_get_payment_fields(client: httpx.Client, sim: Simulator) -> None:
    created = create(client, customer={"email": "a@shop.example", "name": "A"})
    got = client.get(f"/payments/{created['id']}")
    assert got.status_code == 200
    body = got.json()
    assert body["id"] == created["id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["requested_on"])
    assert body["source"]["type"] == "qpay"
    assert body["source"]["description"] == "QPay Demo Payment"
    assert body["source"]["pun"] in created["_links"]["redirect"]["href"]
    assert "national_id" not in body["source"]
    assert body["amount"] == 1000
    assert body["currency"] == "QAR"
    assert body["reference"] == "ORD-1"
    assert body["payment_type"] == "Regular"
    assert body["status"] == "Pending"
    assert body["approved"] is False
    assert body["risk"] == {"flagged": False}
    assert body["customer"]["id"] == created["customer"]["id"]
    assert body["customer"]["email"] == "a@shop.example"
    assert body["metadata"] == {"order_id": "ORD-1", "cart": 3}
    assert body["balances"] == {
        "total_authorized": 0,
        "total_voided": 0,
        "available_to_void": 0,
        "total_captured": 0,
        "available_to_capture": 0,
        "total_refunded": 0,
        "available_to_refund": 0,
    }
    links = body["_links"]
    assert links["self"]["href"].endswith(f"/payments/{created['id']}")
    assert links["actions"]["href"].endswith(f"/payments/{created['id']}/actions")
    assert "redirect" in links
    assert "refund" not in links  # nothing to refund yet
    assert NATIONAL_ID not in got.text


def test_same_email_reuses_customer(client: httpx.Client) -> None:
    a = create(client, customer={"email": "same@shop.example"})
    b = create(client, customer={"email": "same@shop.example"})
    assert a["customer"]["id"] == b["customer"]["id"]


def test_captured_payment_has_refund_link_and_balances(client: httpx.Client, sim: Simulator) -> None:
    created = create(client)
    sim.pay(created["id"])
    body = client.get(f"/payments/{created['id']}").json()
    assert body["status"] == "Captured"
    assert body["approved"] is True
    assert body["balances"] == {
        "total_authorized": 1000,
        "total_voided": 0,
        "available_to_void": 0,
        "total_captured": 1000,
        "available_to_capture": 0,
        "total_refunded": 0,
        "available_to_refund": 1000,
    }
    assert body["_links"]["refund"]["href"].endswith(f"/payments/{created['id']}/refunds")


def test_get_by_session_id_until_it_expires(client: httpx.Client, sim: Simulator) -> None:
    created = create(client)
    url = sim.pay(created["id"])
    sid = url.split("cko-session-id=")[1]
    assert re.fullmatch(rf"sid_{ID_RE}", sid)
    by_sid = client.get(f"/payments/{sid}")
    assert by_sid.status_code == 200
    assert by_sid.json()["id"] == created["id"]
    assert by_sid.json()["status"] == "Captured"
    sim.clock.advance(14 * 60 + 59)
    assert client.get(f"/payments/{sid}").status_code == 200
    sim.clock.advance(2)
    expired = client.get(f"/payments/{sid}")
    assert expired.status_code == 404
    # the payment id keeps working
    assert client.get(f"/payments/{created['id']}").status_code == 200


@pytest.mark.parametrize("ident", ["pay_" + "a" * 26, "sid_" + "a" * 26, "nonsense", "cus_" + "a" * 26])
def test_unknown_ids_are_404(client: httpx.Client, ident: str) -> None:
    assert client.get(f"/payments/{ident}").status_code == 404
    assert client.get(f"/payments/{ident}/actions").status_code == 404


def test_actions_ledger(client: httpx.Client, sim: Simulator) -> None:
    created = create(client)
    assert client.get(f"/payments/{created['id']}/actions").json() == []
    sim.pay(created["id"])
    actions = client.get(f"/payments/{created['id']}/actions").json()
    assert len(actions) == 1
    capture = actions[0]
    assert re.fullmatch(rf"act_{ID_RE}", capture["id"])
    assert capture["type"] == "Capture"
    assert capture["amount"] == 1000
    assert capture["approved"] is True
    assert capture["response_code"] == "10000"
    assert capture["response_summary"] == "Approved"
    assert capture["reference"] == "ORD-1"
    assert capture["processed_on"].endswith("Z")
    refund = client.post(f"/payments/{created['id']}/refunds", json={"amount": 300, "reference": "RF-1"})
    assert sim.webhooks.wait_idle(5)
    actions = client.get(f"/payments/{created['id']}/actions").json()
    assert [a["type"] for a in actions] == ["Refund", "Capture"]  # latest first
    assert actions[0]["id"] == refund.json()["action_id"]
    assert actions[0]["amount"] == 300
    assert actions[0]["reference"] == "RF-1"


def test_declined_capture_in_actions(client: httpx.Client, sim: Simulator) -> None:
    created = create(client)
    sim.pay(created["id"], card="4000000000000002", expiry="12/40", pin="1")
    actions = client.get(f"/payments/{created['id']}/actions").json()
    assert actions[0]["type"] == "Capture"
    assert actions[0]["approved"] is False
    assert actions[0]["response_code"] == "20006"
    assert client.get(f"/payments/{created['id']}").json()["status"] == "Declined"


def test_capture_and_void_are_not_supported(client: httpx.Client, sim: Simulator) -> None:
    created = create(client)
    assert client.post(f"/payments/{created['id']}/captures", json={}).status_code == 403
    assert client.post(f"/payments/{created['id']}/voids", json={}).status_code == 403
    assert client.post("/payments/pay_" + "b" * 26 + "/voids", json={}).status_code == 404


def test_request_log(client: httpx.Client, sim: Simulator) -> None:
    created = create(client)
    client.get(f"/payments/{created['id']}", headers={"Cko-Idempotency-Key": "ignored-on-get"})
    log = sim.requests
    assert [(r.method, r.path, r.status) for r in log] == [
        ("POST", "/payments", 202),
        ("GET", f"/payments/{created['id']}", 200),
    ]
    assert log[1].idempotency_key == "ignored-on-get"
