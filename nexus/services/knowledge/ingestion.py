"""The indexing job's work: a document's text cut into chunks, embedded in batches, stored per
model; its progress is committed batch by batch so the staff page can show it."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import timedelta

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.models.knowledge import ChunkEmbedding, Document, DocumentChunk, DocumentStatus
from nexus.services import embeddings, utcnow, vectorstore
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


def missing_vectors(model: str, document_id: int | None) -> list[DocumentChunk]:
    has_vector = select(ChunkEmbedding.chunk_id).where(
        ChunkEmbedding.chunk_id == DocumentChunk.id, ChunkEmbedding.model == model
    )
    stmt = select(DocumentChunk).options(joinedload(DocumentChunk.document)).where(~has_vector.exists())
    if document_id is not None:
        stmt = stmt.where(DocumentChunk.document_id == document_id)
    return list(db.session.scalars(stmt.order_by(DocumentChunk.id)))


def embed_chunks(chunks: Sequence[DocumentChunk], embedder: Embedder) -> Iterator[int]:
    """Embed and store in batches; yields how many are done after each batch (caller commits)."""
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start : start + EMBED_BATCH]
        vectors = embedder.passages([embedding_text(c.document.title, c.section, c.content) for c in batch])
        rows = [
            VectorRow(c.id, c.document_id, c.subject.value, c.level.value, vector)
            for c, vector in zip(batch, vectors, strict=True)
        ]
        vectorstore.add(embedder.model, rows)
        yield start + len(batch)


def ingest(document_id: int, embedder: Embedder | None = None) -> str:
    """Index one document, committing as it goes so that its progress bar moves. Idempotent."""
    if not claim(document_id):
        db.session.rollback()
        return "already indexed or in progress"
    db.session.commit()
    document = db.session.get(Document, document_id)
    assert document is not None
    try:
        write_chunks(document)
        db.session.commit()
        warning = _embed_document(document, embedder or embeddings.current())
    except IngestionError as err:
        db.session.rollback()
        return _fail(document_id, err.message)
    except Exception:
        db.session.rollback()
        log.exception("ingestion of document %s failed", document_id)
        return _fail(document_id, "Erreur inattendue pendant l'indexation ; réessayez.")
    document.status = DocumentStatus.READY
    document.progress = 100
    document.error = warning
    db.session.commit()
    return f"{document.chunk_count} chunks" + (" (full-text only)" if warning else "")


def _embed_document(document: Document, embedder: Embedder) -> str | None:
    chunks = missing_vectors(embedder.model, document.id)
    try:
        for done in embed_chunks(chunks, embedder):
            document.progress = 5 + 95 * done // max(len(chunks), 1)
            db.session.commit()
    except EmbeddingUnavailable:
        db.session.rollback()
        log.warning("embeddings unavailable: document %s searchable by full text only", document.id)
        return EMBEDDINGS_MISSING
    return None


def _fail(document_id: int, message: str) -> str:
    db.session.execute(
        update(Document)
        .where(Document.id == document_id)
        .values(status=DocumentStatus.FAILED, error=message[:500], progress=0)
    )
    db.session.commit()
    return f"failed: {message}"


def reindex(*, everything: bool = False, embedder: Embedder | None = None) -> int:
    """Vectors for the current model: the missing ones, or all of them. Commits per batch."""
    embedder = embedder or embeddings.current()
    if everything:
        db.session.execute(delete(ChunkEmbedding).where(ChunkEmbedding.model == embedder.model))
    chunks = missing_vectors(embedder.model, None)
    done = 0
    for count in embed_chunks(chunks, embedder):
        db.session.commit()
        done = count
    db.session.execute(
        update(Document).where(Document.error == EMBEDDINGS_MISSING).values(error=None, progress=100)
    )
    db.session.commit()
    return done


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
