"""Indexing course material for ARIA, on the `embeddings` queue."""

from __future__ import annotations

from nexus.queue import job
from nexus.services import knowledge


@job
def ingest_document(document_id: int) -> str:
    """Extract, chunk, embed and store one document; a second run finds nothing to do."""
    return knowledge.ingest(document_id)
