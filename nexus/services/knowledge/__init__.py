"""The centre's course material for ARIA: ingestion and retrieval.

Ingestion: a document (PDF, Markdown or text) is stored once per content hash; a job extracts its
text, cuts it into chunks along headings and paragraphs, embeds the chunks in batches and stores
the vectors per model. Progress is committed batch by batch so the staff page can show it.

Retrieval: pgvector (HNSW, filtered by subject and level) and PostgreSQL French full-text search,
fused by reciprocal rank. When embeddings are unavailable, full-text search answers alone.

One concern a module: `extraction` (PDF, Markdown and text to paragraphs), `chunking`,
`documents` (the Document rows: upload, retry, list, delete), `ingestion` (the indexing job's
work), `corpus` (the built-in course corpus) and `retrieval` (search, fusion, relevance). Callers
import `nexus.services.knowledge` and use the names below.
"""

from nexus.services.knowledge.chunking import MAX_CHARS, TARGET_CHARS, Draft, chunk, embedding_text
from nexus.services.knowledge.corpus import (
    VECTORS_FILE,
    corpus_files,
    load_corpus_vectors,
    seed_corpus,
    vector_key,
    write_corpus_vectors,
)
from nexus.services.knowledge.documents import (
    CORPUS_DIR,
    CORPUS_PREFIX,
    INGEST_JOB,
    add_document,
    all_documents,
    content_hash,
    document_bytes,
    remove,
    retry,
    upload,
)
from nexus.services.knowledge.extraction import (
    Block,
    IngestionError,
    decode_text,
    extract,
    plain_text,
    source_type_of,
    split_front_matter,
)
from nexus.services.knowledge.ingestion import (
    EMBEDDINGS_MISSING,
    claim,
    coverage,
    embed_chunks,
    ingest,
    reindex,
    sync_secondary,
    write_chunks,
)
from nexus.services.knowledge.retrieval import (
    QUERY_CHARS,
    Passage,
    Retrieval,
    TextHit,
    fulltext,
    fuse,
    levels_for,
    nearest,
    query_text,
    search,
)

__all__ = [
    "CORPUS_DIR",
    "CORPUS_PREFIX",
    "EMBEDDINGS_MISSING",
    "INGEST_JOB",
    "MAX_CHARS",
    "QUERY_CHARS",
    "TARGET_CHARS",
    "VECTORS_FILE",
    "Block",
    "Draft",
    "IngestionError",
    "Passage",
    "Retrieval",
    "TextHit",
    "add_document",
    "all_documents",
    "chunk",
    "claim",
    "content_hash",
    "corpus_files",
    "coverage",
    "decode_text",
    "document_bytes",
    "embed_chunks",
    "embedding_text",
    "extract",
    "fulltext",
    "fuse",
    "ingest",
    "levels_for",
    "load_corpus_vectors",
    "nearest",
    "plain_text",
    "query_text",
    "reindex",
    "remove",
    "retry",
    "search",
    "seed_corpus",
    "source_type_of",
    "split_front_matter",
    "sync_secondary",
    "upload",
    "vector_key",
    "write_chunks",
    "write_corpus_vectors",
]
