"""Indexing course material for ARIA, on the `embeddings` queue."""

from __future__ import annotations

from nexus.jobs.queue import job


@job
def ingest_document(document_id: int) -> str:
    """Extract, chunk, embed and store one document; a second run finds nothing to do."""
    from nexus.services import knowledge

    return knowledge.ingest(document_id)
