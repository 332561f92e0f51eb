"""The in-thread HTTP server two benchmarks record against (one module: its handler was
written out twice)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: A POST body to (status, headers, response body).
Answer = Callable[[bytes], tuple[int, list[tuple[str, str]], bytes]]


def serve(answer: Answer) -> ThreadingHTTPServer:
    """Serve ``answer`` on 127.0.0.1 (a free port) from a daemon thread, keep-alive, no Nagle
    delay (each answer leaves at once, as from a real service's edge)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            status, headers, data = answer(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
