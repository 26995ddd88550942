"""Serve a WSGI app with werkzeug's threaded server on a background thread."""

from __future__ import annotations

import errno
import logging
import threading
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class PortInUseError(OSError):
    """The requested host:port is already taken."""


class ServerThread:
    def __init__(self, app: WSGIApplication, host: str, port: int) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        try:
            self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE or "in use" in str(exc).lower():
                raise PortInUseError(errno.EADDRINUSE, f"{host}:{port} is already in use") from exc
            raise
        except SystemExit as exc:  # werkzeug exits when the port is taken on some versions
            raise PortInUseError(errno.EADDRINUSE, f"{host}:{port} is already in use") from exc
        self.host = host
        self.port = int(self._server.server_port)
        self._serving = False
        self._thread = threading.Thread(target=self._serve, name="cko-sim-http", daemon=True)

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._serving = True
        self._thread.start()

    def _serve(self) -> None:
        # A short poll interval makes shutdown() return quickly.
        self._server.serve_forever(poll_interval=0.02)

    def stop(self) -> None:
        if self._serving:
            self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(5)
