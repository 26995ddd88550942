"""Contract tests: the official ``checkout-sdk`` against the simulator (and, opt-in, the real sandbox).

Set ``CKO_SANDBOX_SECRET_KEY`` (and ``CKO_SANDBOX_PROCESSING_CHANNEL_ID``; optionally
``CKO_SANDBOX_SUBDOMAIN``) to also run them against Checkout.com's sandbox. Steps that need the
hosted QPay page (paying, then refunding) only run against the simulator.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from checkout_sdk.checkout_api import CheckoutApi
from checkout_sdk.checkout_configuration import CheckoutConfiguration
from checkout_sdk.checkout_sdk import CheckoutSdk
from checkout_sdk.common.enums import Currency
from checkout_sdk.default_keys_credentials import DefaultKeysSdkCredentials
from checkout_sdk.environment import Environment
from checkout_sdk.exception import CheckoutApiException
from checkout_sdk.payments.payment_apm import RequestQPaySource
from checkout_sdk.payments.payments import PaymentRequest, RefundRequest
from simhelpers import SECRET_KEY

from cko_sim import SimConfig, Simulator

SANDBOX_KEY = os.environ.get("CKO_SANDBOX_SECRET_KEY")
SANDBOX_CHANNEL = os.environ.get("CKO_SANDBOX_PROCESSING_CHANNEL_ID")


def simulator_environment(base_url: str) -> Environment:
    """An SDK ``Environment`` whose every URI points at the simulator."""
    base = base_url.rstrip("/") + "/"
    return Environment(
        base_uri=base,
        authorization_uri=base + "connect/token",
        files_uri=base,
        transfers_uri=base,
        balances_uri=base,
        forward_uri=base,
        identity_uri=base,
        is_sandbox=True,
    )


def simulator_api(base_url: str, secret_key: str) -> CheckoutApi:
    # Built by hand: the SDK's builder wants a merchant subdomain, which a local URL cannot take.
    session = requests.Session()
    configuration = CheckoutConfiguration(
        credentials=DefaultKeysSdkCredentials(secret_key=secret_key),
        environment=simulator_environment(base_url),
        http_client=session,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK warns about its risk module
        return CheckoutApi(configuration)


@dataclass
class Target:
    api: CheckoutApi
    sim: Simulator | None
    processing_channel_id: str | None


@pytest.fixture(params=["simulator", pytest.param("sandbox", marks=pytest.mark.sandbox)])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "sandbox":
        if not SANDBOX_KEY:
            pytest.skip("set CKO_SANDBOX_SECRET_KEY to run the contract tests against Checkout.com's sandbox")
        builder = CheckoutSdk.builder().secret_key(SANDBOX_KEY).environment(Environment.sandbox())
        subdomain = os.environ.get("CKO_SANDBOX_SUBDOMAIN")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            builder = builder.environment_subdomain(subdomain) if subdomain else builder.use_legacy_domain()
            api = builder.build()
        yield Target(api, None, SANDBOX_CHANNEL)
        return
    sim = Simulator(SimConfig(require_processing_channel=True, time_scale=0.001))
    sim.start(host="127.0.0.1", port=0)
    try:
        yield Target(simulator_api(sim.base_url, SECRET_KEY), sim, "pc_" + "s" * 26)
    finally:
        sim.stop()


def _qpay_request(target: Target, amount: int = 1000) -> PaymentRequest:
    source = RequestQPaySource()
    source.description = "QPay Demo Payment"
    source.language = "en"
    source.quantity = 1
    source.national_id = "070AYY010BU234M"
    request = PaymentRequest()
    request.source = source
    request.amount = amount
    request.currency = Currency.QAR
    request.reference = f"ORD-{uuid.uuid4().hex[:8]}"
    request.success_url = "https://shop.example/checkout/success?order=1"
    request.failure_url = "https://shop.example/checkout/failure"
    request.metadata = {"order_id": "1"}
    if target.processing_channel_id:
        request.processing_channel_id = target.processing_channel_id
    return request


def test_create_and_read_qpay_payment(target: Target) -> None:
    request = _qpay_request(target)
    created = target.api.payments.request_payment(request, idempotency_key=str(uuid.uuid4()))
    assert created.http_metadata.status_code == 202
    assert created.status == "Pending"
    assert created.id.startswith("pay_")
    assert created.customer.id.startswith("cus_")
    assert "pun=" in created._links.redirect.href

    details = target.api.payments.get_payment_details(created.id)
    assert details.id == created.id
    assert details.status == "Pending"
    assert details.amount == 1000
    assert details.currency == "QAR"
    assert details.reference == request.reference
    assert details.source.type == "qpay"
    assert not hasattr(details.source, "national_id")

    actions = target.api.payments.get_payment_actions(created.id)
    assert isinstance(getattr(actions, "items", []), list)


def test_validation_error_surfaces_as_sdk_exception(target: Target) -> None:
    request = _qpay_request(target)
    request.currency = Currency.USD
    with pytest.raises(CheckoutApiException) as info:
        target.api.payments.request_payment(request)
    assert info.value.http_metadata.status_code == 422
    assert info.value.error_type == "request_invalid"
    assert "currency_invalid" in info.value.error_details


def test_pay_then_refund_partially_and_fully(target: Target) -> None:
    if target.sim is None:
        pytest.skip("needs the simulator's hosted QPay page")
    sim = target.sim
    created = target.api.payments.request_payment(_qpay_request(target))
    redirect = sim.pay(created.id, card="4215375500883243", expiry="12/39", pin="123456")
    sid = redirect.split("cko-session-id=")[1]
    by_session = target.api.payments.get_payment_details(sid)
    assert by_session.id == created.id
    assert by_session.status == "Captured"
    assert by_session.balances.available_to_refund == 1000

    partial = RefundRequest()
    partial.amount = 400
    partial.reference = "RF-PART"
    first = target.api.payments.refund_payment(created.id, partial, idempotency_key="rf-1")
    assert first.http_metadata.status_code == 202
    assert first.action_id.startswith("act_")
    assert first.reference == "RF-PART"
    # an SDK retry with the same key does not refund twice
    again = target.api.payments.refund_payment(created.id, partial, idempotency_key="rf-1")
    assert again.action_id == first.action_id
    assert sim.webhooks.wait_idle(5)
    assert target.api.payments.get_payment_details(created.id).status == "Partially Refunded"

    rest = target.api.payments.refund_payment(created.id, RefundRequest())
    assert rest.http_metadata.status_code == 202
    assert sim.webhooks.wait_idle(5)
    final = target.api.payments.get_payment_details(created.id)
    assert final.status == "Refunded"
    assert final.balances.total_refunded == 1000
    actions = target.api.payments.get_payment_actions(created.id).items
    assert [a.type for a in actions] == ["Refund", "Refund", "Capture"]

    too_much = RefundRequest()
    too_much.amount = 1
    with pytest.raises(CheckoutApiException) as info:
        target.api.payments.refund_payment(created.id, too_much)
    assert info.value.http_metadata.status_code == 403


def test_refund_of_uncaptured_payment_is_refused(target: Target) -> None:
    created = target.api.payments.request_payment(_qpay_request(target))
    request = RefundRequest()
    request.amount = 100
    with pytest.raises(CheckoutApiException) as info:
        target.api.payments.refund_payment(created.id, request)
    assert info.value.http_metadata.status_code in (403, 422)
