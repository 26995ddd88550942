"""A werkzeug threaded WSGI server on a background thread, with a clear error for a busy port."""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import socket
import threading
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class PortInUseError(OSError):
    """The requested host:port is already taken."""

    def __init__(self, host: str, port: int, what: str = "") -> None:
        label = f" for {what}" if what else ""
        super().__init__(errno.EADDRINUSE, f"port {port} on {host}{label} is already in use")
        self.host = host
        self.port = port


def check_free(host: str, port: int, what: str = "") -> None:
    """Raise :class:`PortInUseError` if ``host:port`` cannot be bound (port 0 is always free)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise PortInUseError(host, port, what) from exc


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ServerThread:
    """``start()`` serves until ``stop()``; ``stop()`` joins the thread and frees the port."""

    def __init__(self, app: WSGIApplication, host: str, port: int, name: str) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        check_free(host, port, name)
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        except (OSError, SystemExit) as exc:  # werkzeug calls sys.exit(1) when the port is taken
            raise PortInUseError(host, port, name) from exc
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.host = host
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"qpay-local-{name}", daemon=True
        )
        self._started = False

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._started = True
        self._thread.start()

    def stop(self) -> None:
        if self._started:
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()
