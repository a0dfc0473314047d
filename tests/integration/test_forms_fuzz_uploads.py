"""File uploads with hostile names and contents: a French refusal, no row and no file left behind."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.identity import User
from nexus.models.knowledge import Document
from nexus.services import ServiceError, audit, knowledge, vault
from tests.helpers import changed_tables, fingerprint, html, stored_files
from tests.people import ASSISTANTE, PARENT

DOCS = "/dashboard/assistante/docs"
NOTE = "# Suites\n\nUne suite arithmétique ajoute la même raison à chaque terme.\n".encode()


def documents() -> int:
    return db.session.scalar(select(func.count(Document.id))) or 0


def post_upload(client, filename: str, data: bytes = NOTE, title: str = "Suites"):  # type: ignore[no-untyped-def]
    form = {"title": title, "subject": "MATHEMATIQUES", "level": "TERMINALE"}
    form["file"] = (io.BytesIO(data), filename)
    return client.post(DOCS, data=form, content_type="multipart/form-data")


@pytest.mark.parametrize(
    "filename",
    [
        "cours\x00.md",
        "cours.md\x00.pdf",
        "cours\x1b[31m.md",
        "cours\u2028.md",
        "cours\u202edm.txt",
        "cours\x7f.md",
        "x" * 300 + ".md",
    ],
)
def test_a_hostile_file_name_is_refused_in_french_and_nothing_is_stored(app, client, login, filename):
    login(client, ASSISTANTE)
    files, tables = stored_files(app), fingerprint()
    response = post_upload(client, filename)
    assert response.status_code == 422
    assert "nom du fichier" in html(response)
    assert changed_tables(tables, fingerprint()) == []
    assert stored_files(app) == files


@pytest.mark.parametrize("filename", ["a\r\n.md", "a\n.md", "a\r.md", "\x85.md", "a\ud800.md", "\u200b.md"])
def test_line_breaks_and_invisible_characters_are_refused_by_the_service(filename):
    # Over HTTP a line break ends the multipart header (browsers send %0D%0A instead): the
    # service refuses it anyway, for every caller.
    with pytest.raises(ServiceError, match="nom du fichier"):
        vault.clean_filename(filename)


@pytest.mark.parametrize("filename", ["", ".", "..", "../", "dossier/", " "])
def test_an_empty_file_name_is_refused_by_the_service(filename):
    with pytest.raises(ServiceError, match="nom du fichier est vide"):
        vault.clean_filename(filename)


@pytest.mark.parametrize("filename", ["../../etc/passwd", "..\\..\\windows\\system.ini", "/etc/shadow"])
def test_a_path_in_the_file_name_is_reduced_to_its_last_part(app, client, login, filename):
    login(client, ASSISTANTE)
    files, rows = stored_files(app), documents()
    response = post_upload(client, filename)
    assert response.status_code == 422
    assert "Format non pris en charge" in html(response)
    assert documents() == rows
    assert stored_files(app) == files


def test_a_path_before_an_accepted_name_keeps_only_the_name(app, client, login):
    login(client, ASSISTANTE)
    assert post_upload(client, "../../cours/suites.md").status_code == 303
    document = db.session.scalar(select(Document).where(Document.title == "Suites"))
    assert document is not None and document.filename == "suites.md"
    assert knowledge.document_bytes(document) == NOTE


def test_a_failure_after_the_file_is_written_leaves_no_file(app, client, login, monkeypatch):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit down")

    login(client, ASSISTANTE)
    monkeypatch.setattr(audit, "record", broken)
    files, rows = stored_files(app), documents()
    assert post_upload(client, "suites.md").status_code == 500
    assert documents() == rows
    assert stored_files(app) == files


FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE_CHARS = '\x00\r\n\x1b\x7f\u2028\u2029\u202e\u200b\ufeff/\\.:*?"<>|'
names = st.one_of(
    st.sampled_from(["", ".", "..", "../../etc/passwd", ".md", "a" * 5000 + ".md", "cours.md\x00"]),
    st.text(alphabet=st.sampled_from(HOSTILE_CHARS + "ab"), min_size=1, max_size=20).map(lambda s: s + ".md"),
    st.text(max_size=40),
)
contents = st.one_of(
    st.sampled_from([b"", b"%PDF-1.4 garbage", b"\x00" * 64, b"\xff\xfe\x00\x00", "é".encode("cp1252")]),
    st.binary(max_size=200),
)


@FUZZ
@given(filename=names, data=contents, title=st.sampled_from(["", " ", "\x1b[2J", "Suites"]))
def test_fuzz_upload_never_fails_and_a_refusal_leaves_nothing(app, client, login, filename, data, title):
    if client.get_cookie("nexus_session") is None:
        login(client, ASSISTANTE)
    files, rows, tables = stored_files(app), documents(), fingerprint()
    response = post_upload(client, filename, data, title)
    assert response.status_code in {303, 400, 413, 422}
    if response.status_code != 303:
        assert changed_tables(tables, fingerprint()) == []
        assert stored_files(app) == files
    else:  # accepted: one row at most, and a file only for a new row
        created = documents() - rows
        assert created in (0, 1)
        assert len(stored_files(app) - files) == created


HOSTILE_CONTENTS = [
    ("titres.md", "# Cours\n\n## Suites\x00 et séries\n\nUne suite converge vers sa limite.\n".encode()),
    ("controle.md", "# Cours\n\n## \x1b[31mRouge\u202e\n\nLe texte\x00 garde son sens.\x07\n".encode()),
    ("latin1.txt", "Théorème de Pythagore : dans un triangle rectangle…".encode("cp1252")),
    ("casse.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 8),
]


@pytest.mark.parametrize(("filename", "data"), HOSTILE_CONTENTS, ids=[n for n, _ in HOSTILE_CONTENTS])
def test_hostile_content_is_indexed_or_fails_with_a_clear_message(client, login, run_jobs, filename, data):
    login(client, ASSISTANTE)
    assert post_upload(client, filename, data, title="Hostile").status_code == 303
    run_jobs()
    db.session.expire_all()
    document = db.session.scalar(select(Document).where(Document.title == "Hostile"))
    assert document is not None
    assert document.status.value in ("READY", "FAILED")
    assert "Erreur inattendue" not in (document.error or "")
    if document.status.value == "READY":
        sections = [c.section or "" for c in document.chunks] + [c.content for c in document.chunks]
        assert not any(ch in text for text in sections for ch in "\x00\x1b\x07\u202e")


# -- a stored file replaced in a transaction -------------------------------------------------------


def _vault_document(app):  # type: ignore[no-untyped-def]
    from nexus.models.vault import DocumentKind

    owner = db.session.scalar(select(User.id).where(User.email == PARENT))
    document = vault.add(owner, DocumentKind.INVOICE, "Facture", "facture.pdf", b"%PDF-1 ancienne")
    db.session.commit()
    return document


def test_a_replaced_file_is_kept_when_the_transaction_rolls_back(app):
    document = _vault_document(app)
    files, path = stored_files(app), document.storage_path
    vault.replace(document, b"%PDF-1 nouvelle")
    db.session.rollback()
    assert document.storage_path == path
    assert vault.resolve(path).read_bytes() == b"%PDF-1 ancienne"
    assert stored_files(app) == files


def test_a_replaced_file_is_swapped_when_the_transaction_commits(app):
    document = _vault_document(app)
    files, old = stored_files(app), vault.resolve(document.storage_path)
    vault.replace(document, b"%PDF-1 nouvelle")
    db.session.commit()
    assert vault.resolve(document.storage_path).read_bytes() == b"%PDF-1 nouvelle"
    assert document.size_bytes == len(b"%PDF-1 nouvelle")
    assert stored_files(app) == (files - {old}) | {vault.resolve(document.storage_path)}


def test_an_invoice_copy_refreshed_in_a_failed_transaction_keeps_its_content(app):
    from nexus.models.billing import InvoiceStatus
    from nexus.models.vault import UserDocument
    from nexus.services import invoices

    owner = db.session.scalar(select(User.id).where(User.email == PARENT))
    invoice = invoices.create(
        "Famille Ben Ali", [invoices.Line("Stage", 1, 450_000)], status=InvoiceStatus.DRAFT, actor_id=None
    )
    invoices.store_pdf(invoice, owner)
    db.session.commit()
    document = db.session.scalar(select(UserDocument).where(UserDocument.invoice_id == invoice.id))
    before, files = vault.resolve(document.storage_path).read_bytes(), stored_files(app)
    invoice.customer_name = "Un autre nom"
    invoices.refresh_vault_copy(invoice)
    db.session.rollback()  # the status change failed after the copy was refreshed
    db.session.refresh(document)
    assert vault.resolve(document.storage_path).read_bytes() == before
    assert stored_files(app) == files


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(app, client, login, monkeypatch):
    login(client, ASSISTANTE)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    files, tables = stored_files(app), fingerprint()
    response = post_upload(client, "gros.md", b"# Gros\n\n" + b"x" * 8192)
    assert response.status_code == 413
    assert "dépasse la taille autorisée" in html(response)
    assert changed_tables(tables, fingerprint()) == []
    assert stored_files(app) == files
