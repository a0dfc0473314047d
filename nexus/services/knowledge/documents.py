"""The course documents: stored once per content hash, uploaded, re-indexed, listed, deleted.

Indexing runs in a job on the `embeddings` queue, enqueued by name after the commit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from nexus import queue
from nexus.extensions import db
from nexus.models.common import Grade, Subject
from nexus.models.knowledge import Document, DocumentStatus
from nexus.services import ServiceError, audit, claim, command, locked, vault, vectorstore
from nexus.services.knowledge.extraction import IngestionError, source_type_of

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus"
CORPUS_PREFIX = "corpus/"
INGEST_JOB = "nexus.jobs.knowledge.ingest_document"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@command
def add_document(
    *,
    title: str,
    subject: Subject,
    level: Grade,
    filename: str,
    data: bytes,
    uploaded_by_id: int | None,
    storage_path: str | None = None,
) -> tuple[Document, bool]:
    """The document for these bytes: (existing, False) or (new PENDING one, True). Race-free."""
    digest = content_hash(data)
    existing = db.session.scalar(select(Document).where(Document.content_hash == digest))
    if existing is not None:
        return existing, False
    kind = source_type_of(filename, data)
    title = " ".join(title.split())[:200] or Path(filename).stem[:200]
    stored = storage_path or vault.store(data, Path(filename).suffix.lower()[:10])
    stmt = (
        insert(Document)
        .values(
            title=title,
            subject=subject,
            level=level,
            source_type=kind,
            filename=Path(filename).name[:255],
            content_hash=digest,
            storage_path=stored,
            status=DocumentStatus.PENDING,
            uploaded_by_id=uploaded_by_id,
        )
        .on_conflict_do_nothing(index_elements=["content_hash"])
        .returning(Document.id)
    )
    new_id = db.session.scalar(stmt)
    if new_id is None and storage_path is None:  # a concurrent upload of the same bytes won
        vault.discard(stored)
    document = db.session.scalar(select(Document).where(Document.content_hash == digest))
    assert document is not None
    return document, new_id is not None


@command
def upload(
    *, title: str, subject: Subject, level: Grade, filename: str, data: bytes, actor_id: int
) -> tuple[Document, bool]:
    """Staff upload: store, audit, and index in a job after the commit."""
    filename = vault.clean_filename(filename)  # before anything is stored
    if not data:
        raise IngestionError("Le fichier est vide.")
    document, created = add_document(
        title=title, subject=subject, level=level, filename=filename, data=data, uploaded_by_id=actor_id
    )
    if created:
        audit.record(
            "document.uploaded",
            actor_id,
            document,
            after={
                "title": document.title,
                "subject": subject.value,
                "level": level.value,
                "size": len(data),
            },
        )
        queue.enqueue_after_commit("embeddings", INGEST_JOB, document.id)
    return document, created


@command
def retry(document_id: int, actor_id: int) -> Document:
    """Index a failed document again (or fill in its missing vectors)."""
    # Claimed in one conditional UPDATE: fifty clicks start one indexing, and a retry never
    # resets a document that a job is indexing right now (two jobs would then index it at once).
    failed = (Document.status == DocumentStatus.FAILED) | (
        (Document.status == DocumentStatus.READY) & Document.error.is_not(None)
    )
    document, claimed = claim(Document, document_id, failed, status=DocumentStatus.PENDING, progress=0)
    if document is None:
        raise LookupError(document_id)
    if not claimed:
        if document.status is DocumentStatus.READY:
            raise ServiceError("Ce document est déjà consultable.")
        raise ServiceError("L'indexation de ce document est déjà en cours.")
    audit.record("document.reindexed", actor_id, document)
    queue.enqueue_after_commit("embeddings", INGEST_JOB, document.id)
    return document


@command
def remove(document_id: int, actor_id: int) -> None:
    """Delete a document and its chunks; its stored file goes once the deletion is committed.

    The row is locked and re-read: of two simultaneous deletes, the second finds nothing
    (LookupError) instead of deleting a row that is gone (and auditing it twice).
    """
    document = locked(Document, document_id)
    if document is None:
        raise LookupError(document_id)
    audit.record(
        "document.deleted",
        actor_id,
        document,
        before={"title": document.title, "subject": document.subject.value, "level": document.level.value},
    )
    vectorstore.delete_document(document.id)
    if not document.storage_path.startswith(CORPUS_PREFIX):  # the corpus files ship with the code
        vault.discard_after_commit(document.storage_path)
    db.session.delete(document)


def all_documents() -> list[Document]:
    """Every document, the newest first (the staff page)."""
    return list(db.session.scalars(select(Document).order_by(Document.id.desc())))


def document_bytes(document: Document) -> bytes:
    if document.storage_path.startswith(CORPUS_PREFIX):
        name = Path(document.storage_path[len(CORPUS_PREFIX) :]).name
        return (CORPUS_DIR / name).read_bytes()
    return vault.resolve(document.storage_path).read_bytes()
