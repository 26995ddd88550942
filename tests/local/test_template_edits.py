"""Template facts pinned by behaviour, the template's side: the checks of tests/local/flows.py on a
local stack built from an edited copy of template.yaml (the product unchanged) must fail. A module of
its own: one local stack per process at a time (the handlers' environment is process-wide)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Shop
from tests.local import flows

Check = Callable[[Shop, pytest.MonkeyPatch], None]


def _ttl(shop: Shop, mp: pytest.MonkeyPatch) -> None:
    flows.check_ttl_ends_a_payment(shop, mp)


def _filters(shop: Shop, mp: pytest.MonkeyPatch) -> None:
    flows.check_filters_drop_what_they_exclude(shop)


def _images(shop: Shop, mp: pytest.MonkeyPatch) -> None:
    flows.check_order_event_from_the_images(shop)


def _projection(shop: Shop, mp: pytest.MonkeyPatch) -> None:
    flows.check_indexes_are_keys_only(shop)


@pytest.mark.parametrize(
    ("old", "new", "check", "why"),
    [
        pytest.param(
            "AttributeName: expires_at_epoch",
            "AttributeName: expires_at",
            _ttl,
            "TTL did not delete",
            id="ttl-attribute-renamed",
        ),
        pytest.param(
            '"sk": {"S": ["TIMER"]}',
            '"sk": {"S": ["TIMERS"]}',
            _ttl,
            "is Pending after",
            id="expiry-filter-key-renamed",
        ),
        pytest.param(
            '"sk": {"S": ["TIMER"]}',
            '"sk": {"S": ["TIMER", "NOTE"]}',
            _filters,
            r"got \[\('REMOVE', 'NOTE'\)",
            id="expiry-filter-widened",
        ),
        pytest.param(
            "StreamViewType: NEW_AND_OLD_IMAGES", "StreamViewType: KEYS_ONLY", _images, r"^\[\]", id="stream-keys-only"
        ),
        pytest.param(
            "            - { AttributeName: cko_id, KeyType: HASH }\n          Projection:\n            ProjectionType: KEYS_ONLY",
            "            - { AttributeName: cko_id, KeyType: HASH }\n          Projection:\n            ProjectionType: ALL",
            _projection,
            "by-cko-id",
            id="projection-all",
        ),
    ],
)
def test_a_template_edit_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, check: Check, why: str
) -> None:
    with (
        flows.local_shop(flows.edited_template(tmp_path, old, new)) as mutant,
        pytest.raises(AssertionError, match=why),
    ):
        check(mutant, monkeypatch)
