"""The origin-verify check's parts: the constant-time match over every accepted value, and the secret's
cache (reread after its age, on a miss at most once per minimum interval, closed when unusable)."""

from __future__ import annotations

import hmac
import json
from typing import Any

import pytest

from qpay.adapters.origin_secret import OriginSecret, parse_values
from qpay.adapters.secrets import SecretsInvalid
from qpay.api import origin

GOOD = "g" * 40
OLD = "o" * 40


def test_matches_compares_with_every_value_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    assert origin.matches(GOOD, (GOOD, OLD))
    assert len(calls) == 2  # no early exit on the first hit: the timing does not say which one matched
    assert origin.matches(OLD, (GOOD, OLD))
    assert not origin.matches(GOOD[:-1], (GOOD, OLD))
    assert not origin.matches("", (GOOD, OLD))
    assert not origin.matches(None, (GOOD, OLD))
    assert not origin.matches(GOOD, ())


def test_a_disabled_check_lets_everything_through() -> None:
    check = origin.OriginCheck(None)
    assert not check.enabled
    check.verify({"headers": {}})  # no exception


@pytest.mark.parametrize(
    "doc",
    [None, [], {}, {"current": "short"}, {"current": GOOD, "previous": "short"}, {"current": 42}, {"previous": GOOD}],
)
def test_unusable_documents_are_refused_without_naming_a_value(doc: Any) -> None:
    with pytest.raises(SecretsInvalid) as err:
        parse_values(doc)
    assert "short" not in str(err.value.problems) and GOOD not in str(err.value.problems)


def test_values_are_current_then_previous() -> None:
    assert parse_values({"current": GOOD}) == (GOOD,)
    assert parse_values({"current": GOOD, "previous": OLD}) == (GOOD, OLD)
    assert parse_values({"current": GOOD, "previous": None}) == (GOOD,)


class FakeSecrets:
    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.reads = 0
        self.fail = False

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        self.reads += 1
        if self.fail:
            raise ConnectionError("secrets manager unreachable")
        return {"SecretString": json.dumps(self.doc)}


def _reader(doc: Any) -> tuple[OriginSecret, FakeSecrets, list[float]]:
    now = [1000.0]
    fake = FakeSecrets(doc)
    return OriginSecret(lambda: fake, "s", 300, min_refresh_s=60, clock=lambda: now[0]), fake, now


def test_read_once_per_max_age_and_a_miss_rereads_at_most_once_a_minute() -> None:
    reader, fake, now = _reader({"current": GOOD})
    assert reader.values() == (GOOD,) and fake.reads == 1
    now[0] += 299
    assert reader.values() == (GOOD,) and fake.reads == 1
    fake.doc = {"current": OLD, "previous": GOOD}
    assert reader.values(refresh=True) == (OLD, GOOD) and fake.reads == 2  # last read 299 s ago
    now[0] += 30
    assert reader.values(refresh=True) == (OLD, GOOD) and fake.reads == 2  # 30 s ago: no reread
    now[0] += 300
    assert reader.values() == (OLD, GOOD) and fake.reads == 3  # aged out


def test_an_unusable_secret_stays_refused_until_reread() -> None:
    reader, fake, now = _reader({"current": "short"})
    for _ in range(3):
        with pytest.raises(SecretsInvalid):
            reader.values()
    assert fake.reads == 1
    fake.doc = {"current": GOOD}
    now[0] += 31  # a failed read is kept 30 s (the keys secret's rule), then the operator's fix is seen
    assert reader.values() == (GOOD,) and fake.reads == 2


def test_an_unreachable_secret_is_not_cached() -> None:
    reader, fake, _ = _reader({"current": GOOD})
    fake.fail = True
    with pytest.raises(ConnectionError):
        reader.values()
    fake.fail = False
    assert reader.values() == (GOOD,) and fake.reads == 2
