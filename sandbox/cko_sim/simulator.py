"""The embeddable simulator: the state machine (``SimulatorCore``) plus its Flask app and HTTP server."""

from __future__ import annotations

from types import TracebackType

from cko_sim.app import build_wsgi_app
from cko_sim.clock import Clock
from cko_sim.config import SimConfig
from cko_sim.core import SimulatorCore
from cko_sim.server import ServerThread


class Simulator(SimulatorCore):
    """A stateful Checkout.com QPay simulator, embeddable in tests or served over HTTP."""

    def __init__(self, config: SimConfig | None = None, *, clock: Clock | None = None) -> None:
        super().__init__(config, clock=clock)
        self._server: ServerThread | None = None
        self.flask_app, self.wsgi_app = build_wsgi_app(self)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve over HTTP on a background thread (``port=0``: ephemeral). Returns ``base_url``."""
        if self._server is not None:
            raise RuntimeError("simulator already started")
        self._server = ServerThread(self.wsgi_app, host, port)
        self._server.start()
        self.start_background()
        return self.base_url

    def stop(self) -> None:
        """Stop the server, the webhook worker and the ticker; release held connections."""
        self._stop_event.set()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.stop_background()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is not None:
            return self._server.base_url
        return super().base_url
