"""Concurrent refunds on moto and on DynamoDB Local: the sum refunded never exceeds the capture."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import Shop
from tests.e2e.test_refunds import captured, checkout_refunds


def test_concurrent_partials_never_exceed_the_capture(any_shop: Shop) -> None:
    shop = any_shop
    pid = captured(shop)
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: shop.refund(pid, 1000), range(20)))
    codes = sorted(a.status_code for a in answers)
    accepted = codes.count(202)
    assert accepted == 12, codes
    assert set(codes) <= {202, 409, 422}
    shop.stack.drain(timeout=90)
    view = shop.get(pid)
    assert view["refunded_amount"] == 12000
    assert sum(a.amount for a in checkout_refunds(shop, pid)) == 12000
    assert shop.item(pid)["refundable_amount"] == 500
