"""Template facts pinned by behaviour: the TTL attribute, the stream view type, the index projections,
the event source filters and batch sizes are read from template.yaml by the local stack and exercised
through the real product (tests/local/flows.py). The meta-tests here edit the product's side (its
constant renamed, not the template's) and expect the checks to fail; test_template_edits.py edits
template.yaml's side."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Shop
from tests.local import flows


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    with flows.local_shop() as s:
        yield s


def test_ttl_really_ends_a_payment(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    flows.check_ttl_ends_a_payment(shop, monkeypatch)


def test_a_record_the_filter_excludes_does_not_reach_the_function(shop: Shop) -> None:
    flows.check_filters_drop_what_they_exclude(shop)


def test_the_stream_images_carry_the_order_event(shop: Shop) -> None:
    flows.check_order_event_from_the_images(shop)


def test_indexes_return_keys_only(shop: Shop) -> None:
    flows.check_indexes_are_keys_only(shop)


def test_stream_batches_fit_the_batch_size(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    flows.check_batches_fit_the_batch_size(shop, monkeypatch)


def test_a_code_path_reading_a_non_projected_attribute_fails(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the projection check buys: the sweep's index read, changed to use an attribute the
    pending-by-deadline index does not project (the payment's deadline), fails on the local stack."""
    from qpay.adapters.store import indexes

    original = indexes.IndexesMixin._across_shards

    def reads_deadline(self: Any, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        rows = original(self, *args, **kwargs)
        return sorted(rows, key=lambda r: r["deadline"])  # not projected: KeyError when a row comes back

    monkeypatch.setattr(indexes.IndexesMixin, "_across_shards", reads_deadline)
    shop.create()  # at least one open payment in the index
    from qpay import clock

    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + 7200)
    with pytest.raises(KeyError, match="deadline"):
        shop.stack.trigger_schedule("SweepFunction")


# ------------------------------------------------- meta-tests: the product's side renamed
def test_a_code_rename_of_the_ttl_attribute_fails_the_check(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side: the product writes its timers under another attribute than the table's TTL."""
    from qpay.adapters.store import items

    monkeypatch.setattr(items, "TTL_ATTRIBUTE", "expires_at")
    with pytest.raises(AssertionError, match="TTL did not delete"):
        flows.check_ttl_ends_a_payment(shop, monkeypatch)


def test_a_code_rename_of_the_timer_key_fails_the_check(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side of the filter: the product names its timer items differently from the filter."""
    from qpay.adapters.store import items

    monkeypatch.setattr(items, "TIMER_SK", "EXPIRY")
    # no TIMER item is ever written: the one the filter passes never exists, the payment never expires
    with pytest.raises(AssertionError, match="TTL did not delete"):
        flows.check_ttl_ends_a_payment(shop, monkeypatch)
