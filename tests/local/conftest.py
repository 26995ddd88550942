"""Fixtures for the local stack's tests. Everything binds ephemeral loopback ports and is stopped.

moto's backends are process-global, so at most one moto server (or ``LocalStack``) is alive at a
time: fixtures are module-scoped and modules do not share them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from qpay_local.keys import LocalCredentials
from qpay_local.moto_world import MotoServer, client


class MotoWorld:
    def __init__(self, server: MotoServer, creds: LocalCredentials) -> None:
        self.server = server
        self.creds = creds
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = client(service, self.server.url, self.creds)
        return self._clients[service]


@pytest.fixture(scope="module")
def moto_world() -> Iterator[MotoWorld]:
    server = MotoServer(0)
    server.start()
    try:
        yield MotoWorld(server, LocalCredentials.generate("us-east-1"))
    finally:
        server.stop()
