"""Shared pieces: the bench's test CA and its loopback HTTPS stub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qpay_bench.scenarios import CHECKOUT_ROUTES
from qpay_bench.stub import Stub
from qpay_bench.tls import TestPki, make_pki
from qpay_bench.world import World


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(Path(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def stub(pki: TestPki) -> Iterator[Stub]:
    world = World(secret='{"webhook_signing_keys": ["k"]}', checkout_routes=CHECKOUT_ROUTES)
    with Stub(world, pki) as s:
        yield s
