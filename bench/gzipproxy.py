"""A small reverse proxy that gzips text responses (level 6), standing in for nginx locally.

gunicorn sends uncompressed bodies; in production nginx compresses them (deploy/nginx.conf).
The browser benchmarks go through this proxy so that they see the bytes a real visitor gets.
"""

from __future__ import annotations

import gzip
import http.client
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar

COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
MIN_LENGTH = 256  # nginx gzip_min_length


def should_compress(content_type: str, size: int, accept_encoding: str) -> bool:
    return size >= MIN_LENGTH and "gzip" in accept_encoding and content_type.startswith(COMPRESSIBLE)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream: ClassVar[tuple[str, int]] = ("127.0.0.1", 80)

    def do_GET(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.pop("Accept-Encoding", None)
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            upstream = conn.getresponse()
            payload = upstream.read()
            self._reply(upstream, payload)
        finally:
            conn.close()

    def _reply(self, upstream: http.client.HTTPResponse, payload: bytes) -> None:
        content_type = upstream.getheader("Content-Type") or ""
        accept = self.headers.get("Accept-Encoding") or ""
        compressed = should_compress(content_type, len(payload), accept)
        if compressed:
            payload = gzip.compress(payload, compresslevel=6)
        self.send_response(upstream.status, upstream.reason)
        for name, value in upstream.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        if compressed:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class GzipProxy:
    """`with GzipProxy("http://127.0.0.1:8123") as proxy: proxy.url`."""

    def __init__(self, upstream_url: str) -> None:
        parts = urllib.parse.urlsplit(upstream_url)
        handler = type("Handler", (_Handler,), {"upstream": (parts.hostname, parts.port or 80)})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="gzip-proxy", daemon=True)

    def __enter__(self) -> GzipProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
