from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from simhelpers import AUTH, WEBHOOK_KEY, Sink

from cko_sim import SimConfig, Simulator


@pytest.fixture
def sink() -> Iterator[Sink]:
    receiver = Sink()
    yield receiver
    receiver.stop()


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Simulator]]:
    started: list[Simulator] = []

    def factory(serve: bool = True, **config: Any) -> Simulator:
        config.setdefault("webhook_signing_key", WEBHOOK_KEY)
        config.setdefault("time_scale", 0.001)
        sim = Simulator(SimConfig(**config))
        started.append(sim)
        if serve:
            sim.start(host="127.0.0.1", port=0)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim: Callable[..., Simulator], sink: Sink) -> Simulator:
    return make_sim(webhook_urls=[sink.url])


@pytest.fixture
def client(sim: Simulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.base_url, headers=AUTH, timeout=5, follow_redirects=False) as c:
        yield c
