"""One loopback HTTPS server that answers AWS (JSON protocol) and Checkout.com from a :class:`World`.

The measured processes point ``AWS_ENDPOINT_URL`` and ``CHECKOUT_BASE_URL`` here and trust the bench's
test CA, so their unmodified clients (botocore, urllib3/httpx, ``http.client``) do everything they do in
Lambda — TLS handshake, SigV4, serialisation, parsing — except reach AWS. Loopback only.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from qpay_bench.tls import TestPki
from qpay_bench.world import World, decode, service_of

#: headers worth keeping in the log (the floor replays them on its Checkout requests)
MARK = "/__bench/mark/"  # a measured process marks where one invocation starts and ends
KEPT_HEADERS = ("authorization", "cko-idempotency-key", "content-type", "accept", "user-agent")


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    context: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.context is None:
            super().finish_request(request, client_address)
            return
        try:
            conn = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that gave up mid-handshake
        try:
            super().finish_request(conn, client_address)
        except (ssl.SSLError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


class Stub:
    """``with Stub(world, pki) as stub:`` serves ``stub.url`` until the block ends."""

    def __init__(self, world: World, pki: TestPki | None) -> None:
        self.world = world
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stalls

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, answer: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def _headers(self) -> dict[str, str]:
                return {k.lower(): v for k, v in self.headers.items() if k.lower() in KEPT_HEADERS}

            def do_POST(self) -> None:
                body = self._body()
                target = self.headers.get("X-Amz-Target")
                if target:
                    service, operation = service_of(target)
                    with stub.lock:
                        doc = stub.world.answer(service, operation, decode(body), self._headers())
                    protocol = "1.0" if service == "dynamodb" else "1.1"
                    self._send(200, json.dumps(doc).encode(), f"application/x-amz-json-{protocol}")
                    return
                self._checkout("POST", body)

            def do_GET(self) -> None:
                self._checkout("GET", b"")

            def _checkout(self, method: str, body: bytes) -> None:
                if self.path.startswith(MARK):
                    with stub.lock:
                        stub.world.mark_label(self.path.removeprefix(MARK))
                    self._send(200, b"{}", "application/json")
                    return
                with stub.lock:
                    status, answer = stub.world.checkout(method, self.path.split("?", 1)[0], body, self._headers())
                self._send(status, answer, "application/json")

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = _TlsServer(("127.0.0.1", 0), Handler)
        self._server.context = pki.server_context() if pki is not None else None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.scheme = "https" if pki is not None else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Stub:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
