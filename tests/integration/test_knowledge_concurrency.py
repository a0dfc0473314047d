"""Fifty staff clicks at once on one document, over real sockets and commits: "Relancer" starts
one indexing (one audit line, one job), "Supprimer" deletes once and never answers 500."""

from __future__ import annotations

import http.client
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.common import Grade, Subject
from nexus.models.knowledge import Document, DocumentStatus, SourceType
from tests.integration.aria_support import live, sign_in
from tests.people import ASSISTANTE

__all__ = ["live"]  # fixture
THREADS = 50
STAFF = ASSISTANTE


def failed_document() -> int:
    document = Document(
        title="Scan illisible",
        subject=Subject.NSI,
        level=Grade.TERMINALE,
        source_type=SourceType.MARKDOWN,
        filename="scan.md",
        content_hash="f" * 64,
        storage_path="corpus:absent.md",
        status=DocumentStatus.FAILED,
        error="Aucun texte n'a pu être extrait de ce fichier (PDF scanné ?).",
    )
    db.session.add(document)
    db.session.commit()
    return document.id


def post_all(port: int, path: str) -> list[int]:
    cookie = sign_in(port, STAFF)
    barrier = Barrier(THREADS)

    def post() -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        conn.request("POST", path, body="confirm=1", headers=form)  # a deletion asks first
        status = conn.getresponse().status
        conn.close()
        return status

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(lambda _: post(), range(THREADS)))


def audit_lines(action: str) -> int:
    return db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == action)) or 0


@pytest.mark.committed
def test_fifty_retries_start_one_indexing(app, live, monkeypatch):
    from nexus import queue

    enqueued = []
    monkeypatch.setattr(queue, "enqueue_after_commit", lambda *args, **kw: enqueued.append(args))
    doc_id = failed_document()
    statuses = post_all(live, f"/dashboard/assistante/docs/{doc_id}/relancer")
    assert statuses == [303] * THREADS
    db.session.expire_all()
    assert audit_lines("document.reindexed") == 1
    assert len(enqueued) == 1
    assert db.session.get(Document, doc_id).status is DocumentStatus.PENDING


@pytest.mark.committed
def test_fifty_deletes_delete_once_without_an_error(app, live):
    doc_id = failed_document()
    statuses = post_all(live, f"/dashboard/assistante/docs/{doc_id}/supprimer")
    assert 500 not in statuses and set(statuses) <= {303, 404}, statuses
    db.session.expire_all()
    assert db.session.get(Document, doc_id) is None
    assert audit_lines("document.deleted") == 1
