"""Course material for ARIA: documents, chunks and their embeddings (one row per model)."""

from __future__ import annotations

from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import Computed, ForeignKey, Index, Integer, SmallInteger, String, Text
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


class ChunkEmbedding(db.Model):
    """The vector of a chunk for one embedding model. The column has no fixed dimension:
    each model gets its own partial HNSW index on a cast to its dimension."""

    __tablename__ = "chunk_embeddings"

    chunk_id: Mapped[int] = mapped_column(
        ForeignKey("document_chunks.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(80), primary_key=True)
    dim: Mapped[int] = mapped_column(SmallInteger)
    embedding: Mapped[Any] = mapped_column(Vector())
