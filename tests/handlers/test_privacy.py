"""The national ID goes to Checkout.com in the create call and nowhere else: not a log line, not a
stored item, not a response or error body."""

from __future__ import annotations

import json

from tests.conftest import body_of, create_body, invoke_create, invoke_get, invoke_return, invoke_webhook
from tests.support import keys
from tests.support.webhooks import sign

CANARY = keys.CANARY_NATIONAL_ID


def test_national_id_never_logged_stored_or_returned(aws, sim, capfd, caplog) -> None:
    responses = []
    responses.append(invoke_create(create_body(national_id=CANARY), idem="privacy-1"))
    responses.append(invoke_create(create_body(national_id=CANARY), idem="privacy-1"))  # replay
    responses.append(invoke_create(create_body(national_id=CANARY, amount=5), idem="privacy-1"))  # 409
    responses.append(invoke_create(create_body(national_id=CANARY, currency="EUR")))  # 422
    responses.append(invoke_create(create_body(national_id=CANARY + "!")))  # 422 on the id itself
    pid = body_of(responses[0])["id"]
    [cko] = sim.payments.values()
    redirect = sim.pay(cko.id, card="4215375500883243", expiry="12/30", pin="123456")
    query = dict(p.split("=", 1) for p in redirect.split("?", 1)[1].split("&"))
    responses.append(invoke_return("success", query))
    for event in list(sim.webhooks.events):
        responses.append(invoke_webhook(event.body, signature=sign(event.body)))
    responses.append(invoke_get(pid))
    # it did reach Checkout.com (the one place it must go)
    assert cko.id in sim.payments
    out, err = capfd.readouterr()
    blobs = [out, err, caplog.text, json.dumps(responses), json.dumps(aws.items())]
    for blob in blobs:
        assert CANARY not in blob
    assert "national_id" not in json.dumps(aws.items())
