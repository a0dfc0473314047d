"""The built-in French course corpus (nexus/corpus/*.md), seeded with the vectors it ships."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.common import Grade, Subject
from nexus.models.knowledge import Document, DocumentStatus, SourceType
from nexus.services import command, embeddings
from nexus.services.embeddings import Embedder
from nexus.services.knowledge.chunking import chunk, embedding_text
from nexus.services.knowledge.documents import CORPUS_DIR, CORPUS_PREFIX, add_document, content_hash
from nexus.services.knowledge.extraction import extract, split_front_matter
from nexus.services.knowledge.ingestion import embed_chunks, ingest, missing_vectors

VECTORS_FILE = CORPUS_DIR / "vectors.npz"


def vector_key(model: str, passage: str) -> str:
    return hashlib.sha256(f"{model}\x00{passage}".encode()).hexdigest()[:24]


def load_corpus_vectors() -> dict[str, np.ndarray]:
    """Vectors shipped with the corpus (local model), so that seeding needs no model run."""
    if not VECTORS_FILE.exists():
        return {}
    with np.load(VECTORS_FILE) as data:
        return {str(k): v for k, v in zip(data["keys"], data["vectors"], strict=True)}


def corpus_files() -> list[tuple[Path, dict[str, str]]]:
    files = []
    for path in sorted(CORPUS_DIR.glob("*.md")):
        meta, _ = split_front_matter(path.read_text(encoding="utf-8"))
        files.append((path, meta))
    return files


def seed_corpus(embedder: Embedder | None = None) -> list[Document]:
    """Ingest the French seed corpus (idempotent: unchanged files are left as they are); one
    transaction a file, then its indexing (which commits as it goes)."""
    base = embedder or embeddings.current()
    cached = embeddings.CachedEmbedder(base, load_corpus_vectors(), vector_key)
    documents_out = []
    for path, meta in corpus_files():
        document = _add_corpus_file(path, meta)
        if document.status is not DocumentStatus.READY:
            ingest(document.id, cached)
        elif missing := missing_vectors(base.model, document.id):
            embed_chunks(missing, cached)
        documents_out.append(document)
    return documents_out


@command
def _add_corpus_file(path: Path, meta: dict[str, str]) -> Document:
    """The document of a corpus file, replacing the one of an earlier version of the file."""
    data = path.read_bytes()
    storage = CORPUS_PREFIX + path.name
    stale = select(Document.id).where(
        Document.storage_path == storage, Document.content_hash != content_hash(data)
    )
    for stale_id in db.session.scalars(stale).all():
        db.session.delete(db.session.get(Document, stale_id))
    document, _ = add_document(
        title=meta.get("titre") or path.stem,
        subject=Subject(meta["matiere"]),
        level=Grade(meta["niveau"]),
        filename=path.name,
        data=data,
        uploaded_by_id=None,
        storage_path=storage,
    )
    return document


def write_corpus_vectors(embedder: Embedder | None = None) -> int:
    """Recompute the shipped vectors of the seed corpus (after editing it)."""
    embedder = embedder or embeddings.LocalEmbedder()
    passages: dict[str, str] = {}
    for path, meta in corpus_files():
        title = meta.get("titre") or path.stem
        for draft in chunk(extract(path.read_bytes(), SourceType.MARKDOWN)):
            passage = embedding_text(title, draft.section, draft.content)
            passages[vector_key(embedder.model, passage)] = passage
    keys = sorted(passages)
    vectors = embedder.passages([passages[k] for k in keys])
    np.savez_compressed(VECTORS_FILE, keys=np.array(keys), vectors=vectors.astype(np.float32))
    return len(keys)
