from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cko_sim import SimConfig, Simulator


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Simulator]]:
    started: list[Simulator] = []

    def factory(serve: bool = True, **config: Any) -> Simulator:
        config.setdefault("time_scale", 0.001)
        config.setdefault("require_processing_channel", True)
        sim = Simulator(SimConfig(**config))
        started.append(sim)
        if serve:
            sim.start(host="127.0.0.1", port=0)
        return sim

    yield factory
    for sim in started:
        sim.stop()
