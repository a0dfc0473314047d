"""Course material: extraction, chunking, the staff upload and its job, idempotence, re-indexing."""

from __future__ import annotations

import io

import pytest
from fpdf import FPDF
from sqlalchemy import func, select, text

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.common import Grade, Subject
from nexus.models.knowledge import (
    LOCAL_EMBEDDING_MODEL,
    ChunkEmbedding,
    Document,
    DocumentChunk,
    DocumentStatus,
    SourceType,
    hnsw_index_name,
)
from nexus.services import knowledge
from nexus.services.vectorstore import Scope
from tests.helpers import html
from tests.integration.aria_support import llm_server
from tests.people import ASSISTANTE, HELIOS, PARENT, SAMI

__all__ = ["llm_server"]  # fixture

STAFF = ASSISTANTE
NOTE = """---
titre: Les graphes
---
# Les graphes

## Vocabulaire

Un graphe est un ensemble de sommets reliés par des arêtes. Deux sommets reliés sont adjacents.

## Parcours

Le parcours en largeur d'un graphe utilise une file ; le parcours en profondeur utilise une pile.

```python
def voisins(g, s):

    return g[s]
```
""".encode()


def upload(client, data: bytes = NOTE, filename: str = "graphes.md", title: str = "Graphes", **extra):  # type: ignore[no-untyped-def]
    form = {"title": title, "subject": "NSI", "level": "TERMINALE", **extra}
    form["file"] = (io.BytesIO(data), filename)
    return client.post("/dashboard/assistante/docs", data=form, content_type="multipart/form-data")


def document(title: str) -> Document:
    found = db.session.scalar(select(Document).where(Document.title == title))
    assert found is not None
    return found


def pdf(*pages: str) -> bytes:
    doc = FPDF()
    doc.set_font("Helvetica", size=12)
    for content in pages:
        doc.add_page()
        if content:
            doc.multi_cell(0, 8, content)
    return bytes(doc.output())


# -- extraction and chunking ---------------------------------------------------------------------


def test_markdown_is_cut_along_headings_and_paragraphs():
    drafts = knowledge.chunk(knowledge.extract(NOTE, SourceType.MARKDOWN))
    assert [d.section for d in drafts] == ["Vocabulaire", "Parcours"]
    assert drafts[0].content.startswith("Un graphe est un ensemble de sommets")
    assert "```python\ndef voisins(g, s):\n\n    return g[s]\n```" in drafts[1].content  # code kept whole
    assert "titre:" not in drafts[0].content  # the front matter is not content


def test_nested_headings_make_a_section_path():
    source = b"# T\n\n## Suites\n\n### Somme\n\nLa somme vaut.\n\n## Limites\n\nUne limite."
    drafts = knowledge.chunk(knowledge.extract(source, SourceType.MARKDOWN))
    assert [(d.section, d.content) for d in drafts] == [
        ("Suites › Somme", "La somme vaut."),
        ("Limites", "Une limite."),
    ]


def test_long_paragraphs_are_cut_between_sentences():
    paragraph = " ".join(f"Phrase numéro {n} du cours sur les suites." for n in range(120))
    drafts = knowledge.chunk(knowledge.extract(paragraph.encode(), SourceType.TEXT))
    assert len(drafts) > 3
    assert all(len(d.content) <= knowledge.MAX_CHARS for d in drafts)
    assert all(d.content.endswith(".") for d in drafts)
    assert " ".join(d.content for d in drafts) == paragraph


def test_pdf_text_keeps_its_page_numbers():
    data = pdf("Premiere page : les suites arithmetiques.", "Seconde page : les suites geometriques.")
    drafts = knowledge.chunk(knowledge.extract(data, SourceType.PDF))
    assert [(d.page, d.content) for d in drafts] == [
        (1, "Premiere page : les suites arithmetiques."),
        (2, "Seconde page : les suites geometriques."),
    ]


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("cours.docx", b"PK\x03\x04", "Format non pris en charge"),
        ("cours.pdf", b"pas un pdf", "ne correspond pas à son extension"),
        ("cours.md", b"%PDF-1.4 ...", "ne correspond pas à son extension"),
        ("cours.md", b"", "Le fichier est vide."),
    ],
)
def test_bad_files_are_refused_in_french(client, login, filename, data, message):
    login(client, STAFF)
    response = upload(client, data, filename)
    assert response.status_code == 422
    assert message in html(response)
    assert db.session.scalar(select(func.count(Document.id)).where(Document.uploaded_by_id.isnot(None))) == 0


# -- upload, job, progress ------------------------------------------------------------------------------


def test_staff_upload_is_indexed_by_a_job_while_the_row_shows_progress(client, login, run_jobs):
    login(client, STAFF)
    response = upload(client)
    assert response.status_code == 303
    doc = document("Graphes")
    assert doc.status is DocumentStatus.PENDING
    page = html(client.get("/dashboard/assistante/docs"))
    assert f'hx-get="/dashboard/assistante/docs/{doc.id}/ligne" hx-trigger="every 1s"' in page
    assert "<progress" in page
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "document.uploaded"))
    assert audit is not None and audit.object_id == doc.id

    assert run_jobs() == 1
    db.session.refresh(doc)
    assert (doc.status, doc.progress, doc.chunk_count, doc.error) == (DocumentStatus.READY, 100, 2, None)
    vectors = db.session.scalars(
        select(ChunkEmbedding).join(DocumentChunk).where(DocumentChunk.document_id == doc.id)
    ).all()
    assert len(vectors) == 2 and {(v.model, v.dim) for v in vectors} == {(LOCAL_EMBEDDING_MODEL, 384)}
    row = html(client.get(f"/dashboard/assistante/docs/{doc.id}/ligne"))
    assert "hx-trigger" not in row  # polling stops
    assert "Consultable" in row and "2 passages" in row
    found = knowledge.search("parcours en largeur d'un graphe", Scope("NSI", ("TERMINALE",)))
    assert found.passages[0].title == "Graphes"


def test_the_same_file_twice_is_indexed_once(client, login, run_jobs):
    login(client, STAFF)
    upload(client)
    run_jobs()
    response = upload(client, title="Autre titre")
    assert response.status_code == 303
    assert "Ce fichier est déjà dans la base" in html(client.get("/dashboard/assistante/docs"))
    assert db.session.scalar(select(func.count(Document.id)).where(Document.filename == "graphes.md")) == 1
    assert run_jobs() == 0  # nothing enqueued the second time
    doc = document("Graphes")
    assert knowledge.ingest(doc.id) == "already indexed or in progress"
    assert (
        db.session.scalar(select(func.count(DocumentChunk.id)).where(DocumentChunk.document_id == doc.id))
        == 2
    )


def test_a_pdf_without_text_fails_with_a_clear_message_and_can_be_retried(client, login, run_jobs):
    login(client, STAFF)
    upload(client, pdf(""), "scan.pdf", title="Scan")
    run_jobs()
    doc = document("Scan")
    assert doc.status is DocumentStatus.FAILED
    assert "Aucun texte n'a pu être extrait" in doc.error
    page = html(client.get("/dashboard/assistante/docs"))
    assert "Relancer" in page and "Échec" in page
    assert client.post(f"/dashboard/assistante/docs/{doc.id}/relancer").status_code == 303
    assert run_jobs() == 1


def test_in_the_row_a_deleted_document_leaves_its_notice(client, login, run_jobs):
    login(client, STAFF)
    upload(client)
    run_jobs()
    doc_id = document("Graphes").id
    hx = {"HX-Request": "true"}
    row = client.post(f"/dashboard/assistante/docs/{doc_id}/supprimer", data={"confirm": "1"}, headers=hx)
    assert row.status_code == 200
    assert html(row).lstrip().startswith(f'<tr id="doc-{doc_id}">') and "a été retiré" in html(row)


def test_deleting_a_document_removes_its_chunks_and_is_audited(client, login, run_jobs):
    login(client, STAFF)
    upload(client)
    run_jobs()
    doc_id = document("Graphes").id
    url = f"/dashboard/assistante/docs/{doc_id}/supprimer"
    asked = client.post(url)  # without JavaScript, a confirmation page first
    assert asked.status_code == 200 and "Oui, retirer" in html(asked)
    assert db.session.get(Document, doc_id) is not None
    response = client.post(url, data={"confirm": "1"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Document.id)).where(Document.id == doc_id)) == 0
    assert (
        db.session.scalar(select(func.count(DocumentChunk.id)).where(DocumentChunk.document_id == doc_id))
        == 0
    )
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "document.deleted")) is not None


@pytest.mark.parametrize(
    "who", [PARENT, SAMI, HELIOS]
)
def test_only_staff_manage_documents(client, login, who):
    login(client, who)
    assert client.get("/dashboard/assistante/docs").status_code == 403
    assert upload(client).status_code == 403


# -- embeddings outages and model changes ----------------------------------------------------------


@pytest.fixture
def remote_embeddings(app, llm_server, monkeypatch):  # type: ignore[no-untyped-def]
    llm_server.reset()
    monkeypatch.setitem(app.config, "EMBEDDING_BASE_URL", llm_server.url)
    monkeypatch.setitem(app.config, "EMBEDDING_MODEL", "fake-embed")
    yield llm_server
    llm_server.reset()


def test_embeddings_down_leaves_full_text_search_then_reindex_fills_in(
    client, login, run_jobs, remote_embeddings
):
    remote_embeddings.embeddings_down = True
    login(client, STAFF)
    upload(client)
    run_jobs()
    doc = document("Graphes")
    assert doc.status is DocumentStatus.READY
    assert "recherche plein texte seulement" in doc.error
    found = knowledge.search("sommets adjacents", Scope("NSI", ("TERMINALE",)))
    assert found.vector_store is None  # full text alone
    assert found.passages and found.passages[0].title == "Graphes"

    remote_embeddings.embeddings_down = False
    total = db.session.scalar(select(func.count(DocumentChunk.id)))
    assert knowledge.reindex() == total  # every chunk, corpus included, for the new model
    db.session.refresh(doc)
    assert doc.error is None
    dims = db.session.execute(
        select(ChunkEmbedding.dim, func.count())
        .where(ChunkEmbedding.model == "fake-embed")
        .group_by(ChunkEmbedding.dim)
    ).all()
    assert dims == [(64, total)]  # the dimension follows the model
    index = db.session.scalar(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": hnsw_index_name("fake-embed")}
    )
    assert "vector(64)" in index and "fake-embed" in index
    found = knowledge.search("sommets adjacents d'un graphe", Scope("NSI", ("TERMINALE",)))
    assert found.vector_store == "pgvector"
    assert found.passages[0].title == "Graphes"


def test_cli_ingest_then_reindex(app, tmp_path):
    path = tmp_path / "graphes.md"
    path.write_bytes(NOTE)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rag", "ingest", str(path), "--subject", "NSI", "--level", "TERMINALE"])
    assert result.exit_code == 0, result.output
    assert "2 chunks" in result.output
    again = runner.invoke(args=["rag", "ingest", str(path), "--subject", "NSI", "--level", "TERMINALE"])
    assert "already indexed" in again.output
    bad = runner.invoke(args=["rag", "ingest", str(path), "--subject", "CUISINE", "--level", "TERMINALE"])
    assert bad.exit_code != 0
    result = runner.invoke(args=["rag", "reindex"])
    assert result.exit_code == 0 and "0 chunk(s) embedded" in result.output  # nothing missing


def test_the_seed_corpus_is_idempotent_and_ships_its_vectors(app):
    before = db.session.scalar(select(func.count(Document.id)))
    assert before >= 10
    knowledge.seed_corpus()
    assert db.session.scalar(select(func.count(Document.id))) == before
    shipped = knowledge.load_corpus_vectors()
    for path, meta in knowledge.corpus_files():
        assert meta["matiere"] in Subject.__members__ and meta["niveau"] in Grade.__members__
        for draft in knowledge.chunk(knowledge.extract(path.read_bytes(), SourceType.MARKDOWN)):
            passage = knowledge.embedding_text(meta["titre"], draft.section, draft.content)
            assert knowledge.vector_key(LOCAL_EMBEDDING_MODEL, passage) in shipped, (
                f"{path.name}: run `flask rag corpus-vectors` after editing the corpus"
            )
    missing = db.session.scalar(
        select(func.count(DocumentChunk.id)).where(
            ~select(ChunkEmbedding.chunk_id).where(ChunkEmbedding.chunk_id == DocumentChunk.id).exists()
        )
    )
    assert missing == 0
