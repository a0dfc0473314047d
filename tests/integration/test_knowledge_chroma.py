"""ChromaDB as the vector store (VECTOR_STORE=chroma), and pgvector when Chroma is away.

chromadb is optional (requirements-chroma.txt, ~490 MB): the tests that need it are skipped
when it is not installed; the fallback test runs either way.
"""

from __future__ import annotations

import pytest

from nexus.models.common import Grade
from nexus.services import knowledge, vectorstore
from nexus.services.knowledge import retrieval
from nexus.services.vectorstore import Scope
from tests.servers import free_port

ALL_LEVELS = knowledge.levels_for(Grade.TERMINALE)


@pytest.fixture
def chroma(app, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    pytest.importorskip("chromadb")
    monkeypatch.setitem(app.config, "VECTOR_STORE", "chroma")
    monkeypatch.setitem(app.config, "CHROMA_URL", None)
    monkeypatch.setattr(vectorstore, "secondary", lambda: vectorstore.ChromaStore(None, tmp_path / "chroma"))
    return tmp_path


def test_chroma_answers_once_filled_from_pgvector(app, chroma):
    copied = knowledge.sync_secondary()
    assert copied >= 70  # the seed corpus
    found = knowledge.search("Qu'est-ce qu'une clé étrangère ?", Scope("NSI", ALL_LEVELS), k=3)
    assert found.vector_store == "chroma"
    assert found.passages[0].title == "Bases de données relationnelles et SQL"
    # Filters hold in Chroma too: a Première student gets no Terminale chunk.
    hits, store = knowledge.nearest(
        "logarithme népérien", Scope("MATHEMATIQUES", ("SECONDE", "PREMIERE")), 10
    )
    assert store == "chroma" and hits
    levels = {
        p.level for p in retrieval._passages([h.chunk_id for h in hits], {h.chunk_id: 0.0 for h in hits})
    }
    assert levels <= {Grade.SECONDE, Grade.PREMIERE}


def test_chroma_down_falls_back_to_pgvector(app, monkeypatch):
    monkeypatch.setitem(app.config, "VECTOR_STORE", "chroma")
    monkeypatch.setitem(app.config, "CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    found = knowledge.search("Qu'est-ce qu'une clé étrangère ?", Scope("NSI", ALL_LEVELS), k=3)
    assert found.vector_store == "pgvector"  # Chroma not installed, or not answering
    assert found.passages[0].title == "Bases de données relationnelles et SQL"
    assert vectorstore.probe().startswith("degraded: chroma unavailable")
