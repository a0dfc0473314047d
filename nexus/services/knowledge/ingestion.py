"""The indexing job's work: a document's text cut into chunks, embedded in batches, stored per
model; its progress is committed batch by batch so the staff page can show it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.models.knowledge import ChunkEmbedding, Document, DocumentChunk, DocumentStatus
from nexus.services import command, embeddings, utcnow, vectorstore
from nexus.services.embeddings import Embedder, EmbeddingUnavailable
from nexus.services.knowledge.chunking import chunk, embedding_text
from nexus.services.knowledge.documents import document_bytes
from nexus.services.knowledge.extraction import IngestionError, extract
from nexus.services.vectorstore import VectorRow

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(minutes=15)  # a PROCESSING document untouched this long was abandoned
EMBED_BATCH = 16
EMBEDDINGS_MISSING = (
    "Vecteurs non calculés (service d'embeddings indisponible) : recherche plein texte seulement "
    "jusqu'à la prochaine réindexation."
)


@command
def claim(document_id: int) -> bool:
    """PENDING/FAILED (or stuck PROCESSING) -> PROCESSING, once, however many jobs start."""
    stmt = (
        update(Document)
        .where(
            Document.id == document_id,
            (Document.status.in_([DocumentStatus.PENDING, DocumentStatus.FAILED]))
            | (
                (Document.status == DocumentStatus.PROCESSING)
                & (Document.updated_at < utcnow() - STUCK_AFTER)
            ),
        )
        .values(status=DocumentStatus.PROCESSING, progress=0, error=None)
        .returning(Document.id)
    )
    return db.session.scalar(stmt) is not None


@command
def write_chunks(document: Document) -> int:
    """Replace the document's chunks with freshly extracted ones; returns how many."""
    drafts = chunk(extract(document_bytes(document), document.source_type))
    if not drafts:
        raise IngestionError("Aucun texte n'a pu être extrait de ce fichier (PDF scanné ?).")
    db.session.execute(delete(DocumentChunk).where(DocumentChunk.document_id == document.id))
    db.session.add_all(
        DocumentChunk(
            document_id=document.id,
            ord=n,
            subject=document.subject,
            level=document.level,
            section=(d.section or "")[:300] or None,
            page=d.page,
            content=d.content,
        )
        for n, d in enumerate(drafts)
    )
    document.chunk_count = len(drafts)
    document.progress = 5
    db.session.flush()
    return len(drafts)


def missing_vectors(model: str, document_id: int | None, *, every: bool = False) -> list[DocumentChunk]:
    """The chunks without a vector of this model (all of them with `every`), of one document or all."""
    stmt = select(DocumentChunk).options(joinedload(DocumentChunk.document))
    if not every:
        has_vector = select(ChunkEmbedding.chunk_id).where(
            ChunkEmbedding.chunk_id == DocumentChunk.id, ChunkEmbedding.model == model
        )
        stmt = stmt.where(~has_vector.exists())
    if document_id is not None:
        stmt = stmt.where(DocumentChunk.document_id == document_id)
    return list(db.session.scalars(stmt.order_by(DocumentChunk.id)))


def embed_chunks(
    chunks: Sequence[DocumentChunk],
    embedder: Embedder,
    document: Document | None = None,
    *,
    replace: bool = False,
) -> int:
    """Embed and store in batches, one transaction a batch (which moves the document's progress
    bar, if given); returns how many were stored. With `replace`, the model's other vectors go in
    the first batch's transaction: a failure before it keeps them."""
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        vectors = embedder.passages([embedding_text(c.document.title, c.section, c.content) for c in batch])
        rows = [
            VectorRow(c.id, c.document_id, c.subject.value, c.level.value, vector)
            for c, vector in zip(batch, vectors, strict=True)
        ]
        done = start + len(batch)
        progress = 5 + 95 * done // len(chunks)
        _store_batch(embedder.model, rows, document, progress, forget_others=replace and start == 0)
    return len(chunks)


@command
def _store_batch(
    model: str, rows: list[VectorRow], document: Document | None, progress: int, *, forget_others: bool
) -> None:
    if forget_others:
        db.session.execute(delete(ChunkEmbedding).where(ChunkEmbedding.model == model))
    vectorstore.add(model, rows)
    if document is not None:
        document.progress = progress


def ingest(document_id: int, embedder: Embedder | None = None) -> str:
    """Index one document, committing as it goes so that its progress bar moves. Idempotent.

    Not one command but a sequence of them (the claim, the chunks, each batch of vectors, the
    outcome): the staff page follows the progress, and a failure keeps the steps done before it.
    """
    if not claim(document_id):
        return "already indexed or in progress"
    document = db.session.get(Document, document_id)
    assert document is not None
    try:
        write_chunks(document)
        warning = _embed_document(document, embedder or embeddings.current())
    except IngestionError as err:
        return _fail(document_id, err.message)
    except Exception:
        log.exception("ingestion of document %s failed", document_id)
        # A step rolls back its own failure, but a read between two steps (a lost connection)
        # leaves the session unusable until rolled back: the failure must still be recorded.
        db.session.rollback()
        return _fail(document_id, "Erreur inattendue pendant l'indexation ; réessayez.")
    _finish(document, warning)
    return f"{document.chunk_count} chunks" + (" (full-text only)" if warning else "")


def _embed_document(document: Document, embedder: Embedder) -> str | None:
    try:
        embed_chunks(missing_vectors(embedder.model, document.id), embedder, document)
    except EmbeddingUnavailable:
        log.warning("embeddings unavailable: document %s searchable by full text only", document.id)
        return EMBEDDINGS_MISSING
    return None


@command
def _finish(document: Document, warning: str | None) -> None:
    document.status = DocumentStatus.READY
    document.progress = 100
    document.error = warning


@command
def _fail(document_id: int, message: str) -> str:
    db.session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(status=DocumentStatus.FAILED, error=message[:500], progress=0)
    )
    return f"failed: {message}"


def reindex(*, everything: bool = False, embedder: Embedder | None = None) -> int:
    """Vectors for the current model: the missing ones, or all of them. One transaction a batch."""
    embedder = embedder or embeddings.current()
    chunks = missing_vectors(embedder.model, None, every=everything)
    done = embed_chunks(chunks, embedder, replace=everything)
    _clear_warnings()
    return done


@command
def _clear_warnings() -> None:
    """The documents indexed while embeddings were down have their vectors now."""
    db.session.execute(
        update(Document).where(Document.error == EMBEDDINGS_MISSING).values(error=None, progress=100)
    )


def sync_secondary(batch: int = 500) -> int:
    """Copy the current model's vectors from pgvector to Chroma (after Chroma was down or empty)."""
    chroma = vectorstore.secondary()
    if chroma is None:
        return 0
    model = embeddings.current().model
    stmt = (
        select(
            ChunkEmbedding.chunk_id,
            DocumentChunk.document_id,
            DocumentChunk.subject,
            DocumentChunk.level,
            ChunkEmbedding.embedding,
        )
        .join(DocumentChunk, DocumentChunk.id == ChunkEmbedding.chunk_id)
        .where(ChunkEmbedding.model == model)
        .order_by(ChunkEmbedding.chunk_id)
        .limit(batch)
    )
    done, last = 0, 0
    while rows := db.session.execute(stmt.where(ChunkEmbedding.chunk_id > last)).all():
        vectors = [
            VectorRow(chunk_id, document_id, str(subject), str(level), np.asarray(vector, dtype=np.float32))
            for chunk_id, document_id, subject, level, vector in rows
        ]
        chroma.add(model, vectors)
        done, last = done + len(rows), rows[-1][0]
    return done


def coverage() -> dict[str, int]:
    """Chunks in total and with a vector of the current model (staff page, /healthz)."""
    model = embeddings.current().model
    total = db.session.scalar(select(func.count()).select_from(DocumentChunk)) or 0
    embedded = db.session.scalar(select(func.count()).where(ChunkEmbedding.model == model)) or 0
    return {"chunks": total, "embedded": embedded}
