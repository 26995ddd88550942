"""service/returns: the shopper's return is settled by asking Checkout.com (never the query string),
at most once per payment per window, and always lands on one of the configured storefront pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from qpay import deps
from qpay.adapters.checkout import CheckoutNotFound, CheckoutRejected, CheckoutUnavailable
from qpay.domain.states import Stage
from qpay.service.returns import SECOND_LOOKUP_MIN_S, RecentChecks, ReturnPorts, checking_page, record_return
from tests.service.helpers import NOW, pending_payment, settings
from tests.support.webhooks import cko_id

OK = "https://shop.example.qa/orders/thanks"
KO = "https://shop.example.qa/orders/retry"


@dataclass
class Answers:
    """Checkout's GET /payments/{id}: a document or an error per id; every call recorded."""

    by_id: dict[str, Any] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def get_payment(self, cko: str) -> dict[str, Any]:
        self.asked.append(cko)
        answer = self.by_id.get(cko, CheckoutNotFound(404))
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _return(payment_id: str | None, answers: Answers, *, session: str | None = None, recent: Any = None, **kw: Any):
    ports = ReturnPorts(store=deps.store(), checkout=answers, settings=settings(**kw))  # type: ignore[arg-type]
    return record_return(
        payment_id=payment_id, session_id=session, now=NOW + 30, ports=ports, recent=recent or RecentChecks()
    )


def _url(base: str, query: str) -> str:
    return f"{base}?{query}"


@pytest.mark.parametrize("payment_id", [None, "", "qpp_short", "qpp_" + "a" * 26])
def test_an_unknown_payment_lands_on_the_failure_page(aws: Any, payment_id: str | None) -> None:
    answers = Answers()
    assert _return(payment_id, answers) == (None, _url(KO, "error=unknown_payment"))
    assert answers.asked == []


@pytest.mark.parametrize(
    ("status", "stage", "page"),
    [
        ("Captured", Stage.CAPTURED, OK),
        ("Authorized", Stage.CAPTURE_PENDING, OK),
        ("Pending", Stage.PENDING, OK),  # not decided yet: the result page keeps polling
        ("Declined", Stage.DECLINED, KO),
        ("Canceled", Stage.CANCELED, KO),
        ("Expired", Stage.EXPIRED, KO),
    ],
)
def test_checkout_decides_where_the_shopper_lands(aws: Any, status: str, stage: Stage, page: str) -> None:
    payment = pending_payment(reference="ORD-7")
    answers = Answers({payment.cko_id: {"id": payment.cko_id, "status": status, "amount": payment.amount}})
    got, url = _return(payment.id, answers)
    assert got.stage is stage and deps.store().get_payment(payment.id).stage is stage
    assert url == _url(page, f"reference=ORD-7&payment_id={payment.id}")
    assert answers.asked == [payment.cko_id]


def test_the_storefront_url_keeps_its_own_query(aws: Any) -> None:
    payment = pending_payment(reference="ORD 7&x")
    answers = Answers({payment.cko_id: {"id": payment.cko_id, "status": "Captured"}})
    _, url = _return(payment.id, answers, storefront_success_url="https://shop.example.qa/r?lang=ar")
    assert url == f"https://shop.example.qa/r?lang=ar&reference=ORD+7%26x&payment_id={payment.id}"


def test_a_decided_payment_is_not_asked_about_again(aws: Any) -> None:
    payment = pending_payment()
    answers = Answers({payment.cko_id: {"id": payment.cko_id, "status": "Captured"}})
    _return(payment.id, answers)
    _return(payment.id, answers)
    assert answers.asked == [payment.cko_id]


def test_one_question_per_payment_per_window(aws: Any) -> None:
    payment = pending_payment()
    answers = Answers({payment.cko_id: {"id": payment.cko_id, "status": "Pending"}})
    clock = Clock()
    recent = RecentChecks(clock=clock)
    for _ in range(3):
        _return(payment.id, answers, recent=recent, return_cache_s=5)
    assert len(answers.asked) == 1
    clock.t += 4.9
    _return(payment.id, answers, recent=recent, return_cache_s=5)
    assert len(answers.asked) == 1
    clock.t += 0.1  # exactly the window later: ask again
    _return(payment.id, answers, recent=recent, return_cache_s=5)
    assert len(answers.asked) == 2


def test_the_cache_is_bounded_oldest_first() -> None:
    clock = Clock()
    recent = RecentChecks(size=2, clock=clock)
    assert recent.claim("a", 60) and recent.claim("b", 60)
    assert not recent.claim("a", 60)
    assert recent.claim("c", 60)  # evicts the least recently claimed: a was claimed before b
    assert recent.claim("a", 60)
    assert not recent.claim("c", 60)
    recent.release("c")
    assert recent.claim("c", 60)
    recent.release("never-claimed")  # no error


def test_a_failed_return_is_asked_again_next_time(aws: Any) -> None:
    payment = pending_payment()
    recent = RecentChecks()

    class Broken(Answers):
        def get_payment(self, cko: str) -> dict[str, Any]:
            self.asked.append(cko)
            raise RuntimeError("socket closed")

    broken = Broken()
    with pytest.raises(RuntimeError):
        _return(payment.id, broken, recent=recent)
    answers = Answers({payment.cko_id: {"id": payment.cko_id, "status": "Captured"}})
    assert _return(payment.id, answers, recent=recent)[0].stage is Stage.CAPTURED


@pytest.mark.parametrize("error", [CheckoutUnavailable(503, 3), CheckoutRejected(401)])
def test_checkout_trouble_lands_on_the_result_page_unchanged(aws: Any, error: Exception) -> None:
    payment = pending_payment()
    got, url = _return(payment.id, Answers({payment.cko_id: error}))
    assert got.stage is Stage.PENDING
    assert url.startswith(OK + "?")


def test_the_session_id_is_asked_first_and_must_name_this_payment(aws: Any) -> None:
    payment = pending_payment()
    sid = cko_id("sid_")
    answers = Answers({sid: {"id": payment.cko_id, "status": "Captured"}, payment.cko_id: {"status": "Pending"}})
    got, _ = _return(payment.id, answers, session=sid)
    assert got.stage is Stage.CAPTURED and answers.asked == [sid]


def test_a_session_naming_another_payment_is_not_believed(aws: Any) -> None:
    payment = pending_payment()
    sid = cko_id("sid_")
    other = {"id": cko_id("pay_"), "status": "Captured"}
    answers = Answers({sid: other, payment.cko_id: {"id": payment.cko_id, "status": "Declined"}})
    got, _ = _return(payment.id, answers, session=sid)
    assert got.stage is Stage.DECLINED and answers.asked == [sid, payment.cko_id]


def test_a_lapsed_session_falls_back_to_the_payment_id(aws: Any) -> None:
    payment = pending_payment()
    sid = cko_id("sid_")
    answers = Answers({payment.cko_id: {"id": payment.cko_id, "status": "Captured"}})  # sid: 404
    got, _ = _return(payment.id, answers, session=sid)
    assert got.stage is Stage.CAPTURED and answers.asked == [sid, payment.cko_id]


@pytest.mark.parametrize("session", ["sid_short", "pay_" + "a" * 26, "sid_" + "a" * 26 + "/../x"])
def test_a_malformed_session_id_is_never_sent_to_checkout(aws: Any, session: str) -> None:
    payment = pending_payment()
    answers = Answers({payment.cko_id: {"id": payment.cko_id, "status": "Captured"}})
    _return(payment.id, answers, session=session)
    assert answers.asked == [payment.cko_id]


def test_an_unbound_payment_is_matched_by_our_id_in_the_metadata(aws: Any) -> None:
    payment = pending_payment(bound=False)
    sid, ours, theirs = cko_id("sid_"), cko_id("pay_"), cko_id("pay_")
    answers = Answers({sid: {"id": ours, "status": "Captured", "metadata": {"qpay_payment_id": payment.id}}})
    got, _ = _return(payment.id, answers, session=sid)
    stored = deps.store().get_payment(payment.id)
    assert (got.stage, stored.stage, stored.cko_id) == (Stage.CAPTURED, Stage.CAPTURED, ours)
    other = pending_payment(bound=False, reference="ORD-2")
    sid2 = cko_id("sid_")
    for meta in ({"qpay_payment_id": payment.id}, "x", None):
        answers = Answers({sid2: {"id": theirs, "status": "Captured", "metadata": meta}})
        assert _return(other.id, answers, session=sid2, return_cache_s=0)[0].stage is Stage.PENDING


def test_no_second_lookup_without_time_for_it(aws: Any) -> None:
    payment = pending_payment()
    sid = cko_id("sid_")
    answers = Answers({payment.cko_id: {"id": payment.cko_id, "status": "Captured"}})
    ports = ReturnPorts(store=deps.store(), checkout=answers, settings=settings())  # type: ignore[arg-type]
    got, _ = record_return(
        payment_id=payment.id, session_id=sid, now=NOW, ports=ports, recent=RecentChecks(),
        time_left_s=lambda: SECOND_LOOKUP_MIN_S - 0.01,
    )  # fmt: skip
    assert got.stage is Stage.PENDING and answers.asked == [sid]
    got, _ = record_return(
        payment_id=payment.id, session_id=sid, now=NOW, ports=ports, recent=RecentChecks(),
        time_left_s=lambda: SECOND_LOOKUP_MIN_S,
    )  # fmt: skip
    assert got.stage is Stage.CAPTURED
    assert SECOND_LOOKUP_MIN_S == 8.0


def test_the_checking_page_polls_a_real_payment_id_only(aws: Any) -> None:
    s = settings()
    pid = pending_payment().id
    assert checking_page(s, pid) == f"{OK}?payment_id={pid}&check=1"
    for bad in (None, "", "qpp_x", "<script>"):
        assert checking_page(s, bad) == KO
