"""Ten students close their tab mid-answer, over real sockets: every upstream call stops."""

from __future__ import annotations

import http.client
import socket
import time

import pytest

from nexus.extensions import db
from nexus.models.aria import MessageRole
from nexus.services import aria
from tests.integration.aria_support import count_messages, fake_llm, live, llm_server, sign_in, student

__all__ = ["fake_llm", "live", "llm_server"]  # fixtures
STREAMS = 10


def open_stream(port: int, cookie: str, question_id: int) -> socket.socket:
    """A raw socket that has received the first tokens of the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    request = (
        f"GET /dashboard/eleve/aria/questions/{question_id}/flux HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
    )
    sock.sendall(request.encode())
    received = b""
    while received.count(b"event: token") < 2:
        received += sock.recv(4096)
    return sock


@pytest.mark.committed
def test_closing_ten_streams_closes_ten_upstream_calls(live, fake_llm):
    fake_llm.reply = "mot " * 500
    fake_llm.chunk_delay = 0.1
    sami = student()
    questions = [
        aria.ask(sami, f"Question {n} sur les suites", "MATHEMATIQUES", None).id for n in range(STREAMS)
    ]
    db.session.commit()
    cookie = sign_in(live)
    sockets = [open_stream(live, cookie, qid) for qid in questions]
    assert fake_llm.open_streams == STREAMS
    started = time.monotonic()
    for sock in sockets:
        sock.close()
    assert fake_llm.wait_until_idle(timeout=2.0), f"{fake_llm.open_streams} upstream calls still open"
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    # Nothing half-written was stored, and the server still answers at once.
    db.session.expire_all()
    assert count_messages(MessageRole.ASSISTANT) == 0
    conn = http.client.HTTPConnection("127.0.0.1", live, timeout=5)
    conn.request("GET", "/healthz")
    assert conn.getresponse().status == 200

    # Coming back: the whole answer streams, then the stored message, rendered after the
    # request's own teardown (the signed-in user must still be readable then).
    fake_llm.reply, fake_llm.chunk_delay = "La somme vaut 483 [1].", 0.0
    conn = http.client.HTTPConnection("127.0.0.1", live, timeout=10)
    conn.request("GET", f"/dashboard/eleve/aria/questions/{questions[0]}/flux", headers={"Cookie": cookie})
    body = conn.getresponse().read().decode()
    assert "event: done" in body and "La somme vaut 483" in body
    assert "Sources" in body and "aria stream failed" not in body
    db.session.expire_all()
    assert count_messages(MessageRole.ASSISTANT) == 1
