"""F-22: Checkout's deliveries are independent and at least once (its webhook receiver page, fidelity
review S7): a redelivery can arrive while the first attempt is still in flight, and different events of
one payment can be in flight together. The simulator can do both, on demand and by configuration.

The receiver proves overlap without timing: every request waits at a barrier that opens only when the
expected number of requests are inside the receiver at the same moment (the barrier's timeout is a
safety net for a broken simulator, never a measurement)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from simhelpers import AUTH, Sink, create

from cko_sim import Simulator

SAFETY_NET_SECONDS = 60


@pytest.fixture
def overlapping_sim(make_sim: Callable[..., Simulator], sink: Sink) -> Simulator:
    return make_sim(webhook_urls=[sink.url])


def _client(sim: Simulator) -> httpx.Client:
    return httpx.Client(base_url=sim.base_url, headers=AUTH, timeout=10)


def test_overlap_next_redelivers_an_event_while_its_first_attempt_is_in_flight(
    overlapping_sim: Simulator, sink: Sink
) -> None:
    sim = overlapping_sim
    sink.gate = threading.Barrier(2, timeout=SAFETY_NET_SECONDS)
    sim.webhooks.overlap_next(1)
    with _client(sim) as client:
        create(client)  # payment_pending
    assert sim.webhooks.wait_idle(SAFETY_NET_SECONDS)
    assert sink.overlapped == 2
    bodies = sink.bodies()
    assert [b["type"] for b in bodies] == ["payment_pending", "payment_pending"]
    assert bodies[0]["id"] == bodies[1]["id"]  # the same event, byte for byte
    assert sink.received[0][1] == sink.received[1][1]
    assert [d.result for d in sim.webhooks.deliveries] == [200, 200]


def test_burst_next_delivers_different_events_of_one_payment_together(overlapping_sim: Simulator, sink: Sink) -> None:
    sim = overlapping_sim
    sink.gate = threading.Barrier(3, timeout=SAFETY_NET_SECONDS)
    sim.webhooks.burst_next(3)
    with _client(sim) as client:
        pay_id = create(client)["id"]
    sim.pay(pay_id)  # payment_capture_pending and payment_captured
    assert sim.webhooks.wait_idle(SAFETY_NET_SECONDS)
    assert sink.overlapped == 3
    assert sorted(sink.types()) == ["payment_capture_pending", "payment_captured", "payment_pending"]
    assert {b["data"]["id"] for b in sink.bodies()} == {pay_id}


def test_several_workers_deliver_independent_events_at_once(make_sim: Callable[..., Simulator], sink: Sink) -> None:
    sim = make_sim(webhook_urls=[sink.url], webhook_workers=2)
    sink.gate = threading.Barrier(2, timeout=SAFETY_NET_SECONDS)
    sim.webhooks.pause()
    with _client(sim) as client:
        create(client, reference="ORD-A")
        create(client, reference="ORD-B")
    sim.webhooks.resume()
    assert sim.webhooks.wait_idle(SAFETY_NET_SECONDS)
    assert sink.overlapped == 2
    assert Counter(b["data"]["reference"] for b in sink.bodies()) == {"ORD-A": 1, "ORD-B": 1}


def test_the_overlap_probability_doubles_every_event_and_retries_stay_per_copy(
    make_sim: Callable[..., Simulator], sink: Sink
) -> None:
    sim = make_sim(webhook_urls=[sink.url], webhook_overlap_probability=1.0, seed=3)
    sink.statuses.extend([500])  # one copy fails: only that copy is retried (Checkout's schedule)
    with _client(sim) as client:
        create(client)
    sink.wait_for(3, timeout=SAFETY_NET_SECONDS)
    assert sim.webhooks.wait_idle(SAFETY_NET_SECONDS)
    ids = {json.loads(raw)["id"] for _, raw in sink.received}
    assert len(ids) == 1
    attempts = sorted((d.attempt, d.result) for d in sim.webhooks.deliveries)
    assert attempts == [(1, 200), (1, 500), (2, 200)]


def test_fewer_workers_retire_the_extra_threads(make_sim: Callable[..., Simulator], sink: Sink) -> None:
    sim = make_sim(webhook_urls=[sink.url], webhook_workers=3)
    with _client(sim) as client:
        create(client)
    assert sim.webhooks.wait_idle(SAFETY_NET_SECONDS)
    names = lambda: {t.name for t in threading.enumerate() if t.name.startswith("cko-sim-webhooks-")}  # noqa: E731
    assert {"cko-sim-webhooks-0", "cko-sim-webhooks-1", "cko-sim-webhooks-2"} <= names()
    sim.webhooks.set_workers(1)
    for thread in [t for t in threading.enumerate() if t.name in ("cko-sim-webhooks-1", "cko-sim-webhooks-2")]:
        thread.join(SAFETY_NET_SECONDS)
        assert not thread.is_alive()
    with _client(sim) as client:
        create(client)
    assert sim.webhooks.wait_idle(SAFETY_NET_SECONDS)
    assert [d.result for d in sim.webhooks.deliveries] == [200, 200]


def test_admin_routes_switch_overlap_on(overlapping_sim: Simulator, sink: Sink) -> None:
    sim = overlapping_sim
    base = f"{sim.base_url}/_sim/webhooks"
    assert httpx.post(f"{base}/chaos", json={"overlap": 0.5, "workers": 2}).json()["workers"] == 2
    assert sim.config.webhook_overlap_probability == 0.5
    assert httpx.post(f"{base}/chaos", json={"overlap": 0, "workers": 1}).json()["overlap"] == 0
    sink.gate = threading.Barrier(2, timeout=SAFETY_NET_SECONDS)
    assert httpx.post(f"{base}/overlap-next", json={"n": 1}).json()["ok"] is True
    with _client(sim) as client:
        create(client)
    assert sim.webhooks.wait_idle(SAFETY_NET_SECONDS)
    assert sink.overlapped == 2
    assert httpx.post(f"{base}/burst-next", json={"n": 2}).json()["ok"] is True


def test_the_cli_takes_the_overlap_switches() -> None:
    from cko_sim.__main__ import parse_args

    args = parse_args(["--webhook-workers", "3", "--webhook-overlap", "0.25"])
    assert (args.webhook_workers, args.webhook_overlap) == (3, 0.25)
    defaults = parse_args([])
    assert (defaults.webhook_workers, defaults.webhook_overlap) == (1, 0.0)
