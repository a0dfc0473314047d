"""Where chunk vectors are searched: pgvector (always written, the durable copy) or ChromaDB.

pgvector: one partial HNSW index per model on a cast to its dimension; the query repeats the
cast and the model as a literal so the planner uses that index, and turns on iterative scans so
that subject/level filters still return k rows (pgvector >= 0.8).

ChromaDB (VECTOR_STORE=chroma): a collection per model, written next to pgvector and searched
first; when it is down or not installed, the search falls back to pgvector. The chromadb package
is optional (requirements-chroma.txt) and imported only when chosen.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np
from flask import current_app
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from nexus.extensions import db
from nexus.models.knowledge import MODEL_NAME, ChunkEmbedding, hnsw_index_name

log = logging.getLogger(__name__)
EF_SEARCH = 100
# Up to this many chunks in scope, an exact scan is quick (~4 ms for 600, 64 ms for 6,000) and has
# perfect recall, where HNSW on a small filtered scope loses some (`make bench`: recall@10 0.89
# with 600 of 10k chunks in scope, 0.998 with 6,000 of 100k).
EXACT_LIMIT = 2_000


@dataclass(frozen=True)
class Scope:
    """Which chunks a student may get: one subject, some levels."""

    subject: str
    levels: tuple[str, ...]


@dataclass(frozen=True)
class VectorRow:
    chunk_id: int
    document_id: int
    subject: str
    level: str
    vector: np.ndarray


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    distance: float  # cosine distance: 0 same direction, 2 opposite


class VectorStore(Protocol):
    name: str

    def add(self, model: str, rows: Sequence[VectorRow]) -> None: ...

    def search(self, model: str, vector: np.ndarray, scope: Scope, k: int) -> list[Hit]: ...

    def delete_document(self, document_id: int) -> None: ...


def _literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


def _check_model(model: str) -> str:
    if not MODEL_NAME.match(model):
        raise ValueError(f"unsupported embedding model name: {model!r}")
    return model


class PgVectorStore:
    name = "pgvector"

    def add(self, model: str, rows: Sequence[VectorRow]) -> None:
        if not rows:
            return
        dim = len(rows[0].vector)
        ensure_index(model, dim)
        values = [
            {"chunk_id": r.chunk_id, "model": model, "dim": dim, "embedding": r.vector.tolist()} for r in rows
        ]
        stmt = insert(ChunkEmbedding).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["chunk_id", "model"],
            set_={"dim": stmt.excluded.dim, "embedding": stmt.excluded.embedding},
        )
        db.session.execute(stmt)

    def search(self, model: str, vector: np.ndarray, scope: Scope, k: int) -> list[Hit]:
        exact = in_scope(scope) <= EXACT_LIMIT
        db.session.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
        db.session.execute(text(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}"))
        rows = db.session.execute(
            text(search_sql(model, len(vector), exact=exact)),
            {"query": _literal(vector), "subject": scope.subject, "levels": list(scope.levels), "k": k},
        )
        return [Hit(int(chunk_id), float(distance)) for chunk_id, distance in rows]

    def delete_document(self, document_id: int) -> None:
        """Nothing to do: chunk_embeddings rows go with their chunks (ON DELETE CASCADE)."""


_indexes_seen: set[str] = set()


def in_scope(scope: Scope) -> int:
    """How many chunks a search may return (the subject/level index answers this at once)."""
    stmt = text("SELECT count(*) FROM document_chunks WHERE subject = :subject AND level = ANY(:levels)")
    return db.session.scalar(stmt, {"subject": scope.subject, "levels": list(scope.levels)}) or 0


def search_sql(model: str, dim: int, *, exact: bool) -> str:
    """Nearest chunks in scope: through the model's HNSW index, or exactly (`+ 0` keeps the planner
    off the index) when the scope is small enough for a scan to be quick and perfectly accurate.

    The model and dimension are literals, not parameters: a partial index only matches known values.
    """
    model, dim = _check_model(model), int(dim)
    distance = f"e.embedding::vector({dim}) <=> CAST(:query AS vector({dim}))"
    order = f"({distance}) + 0" if exact else distance
    return f"""
        WITH nearest AS MATERIALIZED (
            SELECT e.chunk_id, {distance} AS distance
            FROM chunk_embeddings e JOIN document_chunks c ON c.id = e.chunk_id
            WHERE e.model = '{model}' AND c.subject = :subject AND c.level = ANY(:levels)
            ORDER BY {order}
            LIMIT :k
        )
        SELECT chunk_id, distance FROM nearest ORDER BY distance
    """  # noqa: S608 - model checked against MODEL_NAME, dim is an int


def ensure_index(model: str, dim: int) -> None:
    """Create the model's HNSW index if it is missing.

    Looked up first: CREATE INDEX locks the table against writes until the transaction ends,
    even when the index exists.
    """
    name = hnsw_index_name(_check_model(model))
    if name in _indexes_seen:
        return
    found = db.session.scalar(text("SELECT 1 FROM pg_indexes WHERE indexname = :name"), {"name": name})
    if found:
        _indexes_seen.add(name)
        return
    log.info("creating HNSW index %s for %s (%d-d)", name, model, dim)
    # The same shape as the declared index of the local model (nexus.models.knowledge.hnsw_index).
    db.session.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS {name} ON chunk_embeddings USING hnsw "
            f"((CAST(embedding AS vector({int(dim)}))) vector_cosine_ops) WHERE model = '{model}'"
        )
    )


# -- ChromaDB -----------------------------------------------------------------------------------


def collection_name(model: str) -> str:
    """Chroma names: 3-512 characters of [a-zA-Z0-9._-], starting and ending alphanumeric."""
    return "chunks-" + re.sub(r"[^a-zA-Z0-9._-]+", "-", model).strip("-._")[:200]


_chroma_clients: dict[tuple[str | None, str], Any] = {}
_chroma_lock = threading.Lock()


class ChromaStore:
    name = "chroma"

    def __init__(self, url: str | None, path: Path) -> None:
        self.url = url
        self.path = path

    def _client(self) -> Any:
        key = (self.url, str(self.path))
        with _chroma_lock:
            if key not in _chroma_clients:
                _chroma_clients[key] = self._connect()
            return _chroma_clients[key]

    def _connect(self) -> Any:
        import chromadb  # optional dependency: see requirements-chroma.txt
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        if self.url:
            parts = urlsplit(self.url)
            return chromadb.HttpClient(host=parts.hostname, port=parts.port or 8000, settings=settings)
        return chromadb.PersistentClient(path=str(self.path), settings=settings)

    def _collection(self, model: str) -> Any:
        return self._client().get_or_create_collection(
            collection_name(model), embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def add(self, model: str, rows: Sequence[VectorRow]) -> None:
        if not rows:
            return
        self._collection(model).upsert(
            ids=[str(r.chunk_id) for r in rows],
            embeddings=[r.vector.tolist() for r in rows],
            metadatas=[{"subject": r.subject, "level": r.level, "document_id": r.document_id} for r in rows],
        )

    def search(self, model: str, vector: np.ndarray, scope: Scope, k: int) -> list[Hit]:
        where = {"$and": [{"subject": scope.subject}, {"level": {"$in": list(scope.levels)}}]}
        found = self._collection(model).query(query_embeddings=[vector.tolist()], n_results=k, where=where)
        ids, distances = found["ids"][0], found["distances"][0]
        return [Hit(int(i), float(d)) for i, d in zip(ids, distances, strict=True)]

    def delete_document(self, document_id: int) -> None:
        for collection in self._client().list_collections():
            name = collection if isinstance(collection, str) else collection.name
            if name.startswith("chunks-"):
                self._client().get_collection(name).delete(where={"document_id": document_id})


# -- choice ---------------------------------------------------------------------------------------


def primary() -> PgVectorStore:
    return PgVectorStore()


def secondary() -> ChromaStore | None:
    """The Chroma store when VECTOR_STORE=chroma (embedded under instance/ without CHROMA_URL)."""
    config = current_app.config
    if config.get("VECTOR_STORE") != "chroma":
        return None
    return ChromaStore(config.get("CHROMA_URL"), Path(current_app.instance_path) / "chroma")


def add(model: str, rows: Sequence[VectorRow]) -> None:
    """Write to pgvector (in the caller's transaction) and, if chosen, to Chroma (best effort)."""
    primary().add(model, rows)
    chroma = secondary()
    if chroma is not None:
        try:
            chroma.add(model, rows)
        except Exception:  # Chroma down: pgvector has the vectors; `flask rag reindex` resyncs
            log.warning("chroma: could not store %d vectors", len(rows), exc_info=True)


def search(model: str, vector: np.ndarray, scope: Scope, k: int) -> tuple[list[Hit], str]:
    """Nearest chunks and the store that answered (Chroma falls back to pgvector)."""
    chroma = secondary()
    if chroma is not None:
        try:
            return chroma.search(model, vector, scope, k), chroma.name
        except Exception:
            log.warning("chroma: search failed, falling back to pgvector", exc_info=True)
    return primary().search(model, vector, scope, k), "pgvector"


def delete_document(document_id: int) -> None:
    chroma = secondary()
    if chroma is not None:
        try:
            chroma.delete_document(document_id)
        except Exception:
            log.warning("chroma: could not delete document %s", document_id, exc_info=True)


def probe() -> str:
    """For /healthz: pgvector answers; Chroma, when chosen, answers its heartbeat."""
    chroma = secondary()
    if chroma is None:
        db.session.execute(text("SELECT '[1,0]'::vector <=> '[0,1]'::vector"))
        db.session.rollback()
        return "ok (pgvector)"
    try:
        chroma._client().heartbeat()
    except Exception as exc:
        return f"degraded: chroma unavailable ({type(exc).__name__}), pgvector used"
    return "ok (chroma)"
