"""The documents vault: staff file a document (recognised by its content, 10 MB at most) in a
parent's or a student's space; the owner and a student's parents download it, anyone else gets
404; a refusal says why in French and writes nothing; a removal asks first, is audited and
deletes the file; a coach's report is filed as a PDF once per reader, however often its job runs."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.notifications import Notification
from nexus.models.scheduling import SessionReport, SessionStatus
from nexus.models.vault import DocumentKind, UserDocument
from nexus.services import report_pdf, utcnow, vault
from tests import factories
from tests.helpers import at_once, changed_tables, fingerprint, html, notifications_of, stored_files, user
from tests.people import ADMIN, ASSISTANTE, HELIOS, HX, PARENT, PARENT2, SAMI, YASMINE

PAGE = "/dashboard/assistante/documents"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
OOXML_TYPE = "application/vnd.openxmlformats-officedocument"
ODF_TYPE = "application/vnd.oasis.opendocument"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def ooxml(main: str) -> bytes:
    """A minimal Office Open XML package whose main part has this content type."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        types = f'<Types><Override PartName="/word/document.xml" ContentType="{main}"/></Types>'
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def odf(mimetype: str) -> bytes:
    """A minimal OpenDocument file: its stored `mimetype` entry first."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        archive.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def upload(client, owner_email: str, filename: str, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    """The upload form as sent after choosing the person in the search (owner id, name shown)."""
    owner = user(owner_email)
    form = {"person": owner.full_name, "owner": str(owner.id), "title": "Bulletin du 1er trimestre"}
    form |= {"kind": "SCHOOL_REPORT", **fields, "file": (io.BytesIO(data), filename)}  # type: ignore[dict-item]
    return client.post(PAGE, data=form, content_type="multipart/form-data")


def documents_of(email: str) -> list[UserDocument]:
    """The person's documents filed during the test (the demo family has its invoices)."""
    stmt = select(UserDocument).where(UserDocument.owner_id == user(email).id, UserDocument.id > SEEDED)
    return list(db.session.scalars(stmt.order_by(UserDocument.id)))


SEEDED = 0


@pytest.fixture(autouse=True)
def _seeded_documents() -> None:
    global SEEDED
    SEEDED = db.session.scalar(select(func.max(UserDocument.id))) or 0


def audit_lines(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


# -- filing ---------------------------------------------------------------------------------------


def test_staff_file_a_document_the_student_and_their_parent_download(app, client, login):
    login(client, ASSISTANTE)
    response = upload(client, YASMINE, "bulletin.pdf", PDF)
    assert response.status_code == 303 and f"personne={user(YASMINE).id}" in response.headers["Location"]
    [document] = documents_of(YASMINE)
    assert document.kind is DocumentKind.SCHOOL_REPORT and document.mime_type == "application/pdf"
    assert document.uploaded_by_id == user(ASSISTANTE).id and document.size_bytes == len(PDF)
    stored = vault.stored_file(document)
    assert stored is not None and stored.read_bytes() == PDF and "bulletin" not in stored.name
    assert "static" not in stored.parts
    page = html(client.get(response.headers["Location"]))
    assert "Bulletin du 1er trimestre" in page and "a été déposé dans l'espace de Yasmine" in page
    [line] = audit_lines("vault.filed")
    assert line.actor_id == user(ASSISTANTE).id and line.object_id == document.id
    assert line.action_label == "Document déposé dans un espace famille"
    # The owner and her parent are told, each with a link to their own documents page.
    [to_student] = notifications_of(YASMINE, "DOCUMENT")
    [to_parent] = notifications_of(PARENT, "DOCUMENT")
    assert (
        to_student.link == "/dashboard/eleve/ressources" and to_parent.link == "/dashboard/parent/ressources"
    )
    assert "pour Yasmine" in to_parent.title and not notifications_of(PARENT2, "DOCUMENT")
    client.post("/auth/signout")

    for reader in (YASMINE, PARENT):
        login(client, reader)
        own_page = "/dashboard/eleve/ressources" if reader == YASMINE else "/dashboard/parent/ressources"
        assert "Bulletin du 1er trimestre" in html(client.get(own_page))
        served = client.get(f"/documents/{document.id}")
        assert served.status_code == 200 and served.data == PDF
        assert (
            "attachment" in served.headers["Content-Disposition"]
            and "no-store" in served.headers["Cache-Control"]
        )
        client.post("/auth/signout")
    for stranger in (PARENT2, SAMI, HELIOS):  # another family, another student, a coach: the same 404
        login(client, stranger)
        assert client.get(f"/documents/{document.id}").status_code == 404
        assert "Bulletin du 1er trimestre" not in html(client.get("/notifications"))
        client.post("/auth/signout")
    login(client, ADMIN)
    assert client.get(f"/documents/{document.id}").status_code == 200


def test_a_parent_sees_their_own_documents_and_not_another_familys(client, login):
    login(client, ADMIN)
    assert (
        upload(client, PARENT2, "contrat.pdf", PDF, title="Convention 2030", kind="CONTRACT").status_code
        == 303
    )
    [document] = documents_of(PARENT2)
    client.post("/auth/signout")
    login(client, PARENT2)
    assert "Convention 2030" in html(client.get("/dashboard/parent/ressources"))
    assert client.get(f"/documents/{document.id}").status_code == 200
    client.post("/auth/signout")
    login(client, PARENT)
    assert "Convention 2030" not in html(client.get("/dashboard/parent/ressources"))
    assert client.get(f"/documents/{document.id}").status_code == 404


@pytest.mark.parametrize(
    ("filename", "data", "mime", "name"),
    [
        ("photo.png", PNG, "image/png", "photo.png"),
        ("photo.jpeg", JPEG, "image/jpeg", "photo.jpeg"),
        ("photo.webp", WEBP, "image/webp", "photo.webp"),
        ("notes.docx", ooxml(DOCX_MAIN), f"{OOXML_TYPE}.wordprocessingml.document", "notes.docx"),
        ("notes.xlsx", ooxml(XLSX_MAIN), f"{OOXML_TYPE}.spreadsheetml.sheet", "notes.xlsx"),
        ("notes.odt", odf(f"{ODF_TYPE}.text"), f"{ODF_TYPE}.text", "notes.odt"),
        ("notes.ods", odf(f"{ODF_TYPE}.spreadsheet"), f"{ODF_TYPE}.spreadsheet", "notes.ods"),
        ("scan", PDF, "application/pdf", "scan.pdf"),  # the content decides, and names the download
    ],
)  # fmt: skip
def test_images_and_office_documents_are_recognised_by_their_content(
    client, login, filename, data, mime, name
):
    login(client, ASSISTANTE)
    assert upload(client, SAMI, filename, data).status_code == 303
    [document] = documents_of(SAMI)
    assert document.mime_type == mime and document.original_name == name
    served = client.get(f"/documents/{document.id}")
    assert (
        served.status_code == 200 and served.data == data and served.headers["Content-Type"].startswith(mime)
    )


# -- refusals: said in French, nothing written ----------------------------------------------------

TYPE_REFUSED = "Seuls les PDF, les images (PNG, JPEG, WebP) et les documents Word"


@pytest.mark.parametrize(
    ("filename", "data", "fields", "message"),
    [
        ("bulletin.pdf", b"<html><script>alert(1)</script></html>", {}, TYPE_REFUSED),
        ("bulletin.pdf", b"MZ\x90\x00\x03" + b"\x00" * 60, {}, TYPE_REFUSED),  # a Windows program
        ("bulletin.docx", ooxml(DOCM_MAIN), {}, TYPE_REFUSED),  # a macro-enabled document
        ("archive.docx", b"PK\x03\x04" + b"\x00" * 40, {}, TYPE_REFUSED),  # a broken zip
        ("photo.gif", b"GIF89a" + b"\x00" * 20, {}, TYPE_REFUSED),
        ("vide.pdf", b"", {}, "Le fichier est vide"),
        ("bulletin\u202efdp.exe", PDF, {}, "caractère invisible ou de contrôle"),
        ("bul\u200bletin.pdf", PDF, {}, "caractère invisible ou de contrôle"),
        ("bulletin.pdf", PDF, {"kind": "INVOICE"}, "N'est pas un choix valide"),  # filed by the app only
        ("bulletin.pdf", PDF, {"kind": "REPORT"}, "N'est pas un choix valide"),
        ("bulletin.pdf", PDF, {"kind": "__class__"}, "N'est pas un choix valide"),
        ("bulletin.pdf", PDF, {"title": "   "}, "Donnez un titre au document."),
        ("bulletin.pdf", PDF, {"title": "Bulletin\u202e"}, ""),
        ("bulletin.pdf", PDF, {"title": "T" * 201}, "200 caractères au plus."),
    ],
)
def test_a_refused_upload_says_why_and_writes_nothing(app, client, login, filename, data, fields, message):
    login(client, ASSISTANTE)
    client.get(PAGE)
    before, files = fingerprint(), stored_files(app)
    response = upload(client, YASMINE, filename, data, **fields)
    assert response.status_code == 422
    page = html(response)
    assert message in page and 'role="alert"' in page
    assert "Bulletin du 1er trimestre" in page or "title" in fields  # the form keeps what was typed
    assert changed_tables(before, fingerprint()) == [] and stored_files(app) == files


def test_a_file_over_ten_megabytes_is_refused_and_over_the_request_limit_too(app, client, login):
    login(client, ASSISTANTE)
    client.get(PAGE)
    before, files = fingerprint(), stored_files(app)
    big = PDF + b"0" * (10 * 1024 * 1024)
    response = upload(client, YASMINE, "gros.pdf", big)
    assert response.status_code == 422 and "Le fichier dépasse 10 Mo" in html(response)
    huge = PDF + b"0" * app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, YASMINE, "enorme.pdf", huge)
    assert response.status_code == 413 and "Fichier trop volumineux" in html(response)
    assert changed_tables(before, fingerprint()) == [] and stored_files(app) == files


def test_no_file_or_a_vault_that_is_not_a_familys_is_refused(app, client, login):
    login(client, ASSISTANTE)
    before, files = fingerprint(), stored_files(app)
    yasmine = user(YASMINE)
    no_file = client.post(
        PAGE, data={"person": yasmine.full_name, "owner": yasmine.id, "title": "B", "kind": "OTHER"}
    )
    assert no_file.status_code == 422 and "Choisissez un fichier à déposer." in html(no_file)
    for other in (HELIOS, ADMIN):  # a coach's or staff's account has no vault, by id or by name
        response = upload(client, other, "bulletin.pdf", PDF)
        assert response.status_code == 422 and "Personne ne correspond" in html(response)
    assert "Espace de" not in html(client.get(f"{PAGE}?personne={user(HELIOS).id}"))
    assert changed_tables(before, fingerprint()) == [] and stored_files(app) == files


def by_name(client, typed: str, owner: str = ""):  # type: ignore[no-untyped-def]
    form = {"person": typed, "owner": owner, "title": "Attestation", "kind": "CERTIFICATE"}
    form["file"] = (io.BytesIO(PDF), "attestation.pdf")  # type: ignore[assignment]
    return client.post(PAGE, data=form, content_type="multipart/form-data")


def test_the_person_may_be_typed_instead_of_chosen(app, client, login):
    login(client, ASSISTANTE)
    assert by_name(client, "Sami").status_code == 303  # one match
    assert by_name(client, "  PARENT@nexus-reussite.tn ").status_code == 303  # an address, case aside
    assert [d.title for d in documents_of(SAMI)] == ["Attestation"]
    assert [d.title for d in documents_of(PARENT)] == ["Attestation"]
    before, files = fingerprint(), stored_files(app)
    several = by_name(client, "Ben Ali")  # Nadia, Yasmine and Adam
    page = html(several)
    assert several.status_code == 422 and "3 personnes correspondent à « Ben Ali »" in page
    assert "Choisir" in page and "Adam" in page  # the matches, to choose from
    nobody = by_name(client, "Zorro")
    assert nobody.status_code == 422 and "Personne ne correspond à « Zorro »" in html(nobody)
    # The name shown was changed after choosing Sami: the name typed decides, not the stale id.
    changed = by_name(client, "Ben Ali", owner=str(user(SAMI).id))
    assert changed.status_code == 422 and "3 personnes correspondent" in html(changed)
    assert changed_tables(before, fingerprint()) == [] and stored_files(app) == files


def test_only_staff_reach_the_staff_page(client, login):
    for email in (PARENT, YASMINE, HELIOS):
        login(client, email)
        assert client.get(PAGE).status_code == 403
        assert upload(client, YASMINE, "bulletin.pdf", PDF).status_code == 403
        client.post("/auth/signout")
    assert documents_of(YASMINE) == []


# -- the search ----------------------------------------------------------------------------------


def test_the_search_finds_parents_and_students_live_and_without_javascript(client, login):
    login(client, ASSISTANTE)
    assert "Tapez le nom" in html(client.get(PAGE))
    page = html(client.get(PAGE, query_string={"q": "yasmine"}))
    assert "Yasmine" in page and "Enfant de Nadia" in page and "Choisir" in page
    fragment = html(client.get(PAGE, query_string={"q": "parent2@"}, headers=HX))
    assert (
        fragment.lstrip().startswith('<div class="results"')
        and "Hichem" in fragment
        and "<h1>" not in fragment
    )
    assert "Parent de Sami" in fragment and "Yasmine" not in fragment
    assert "Personne ne correspond" in html(
        client.get(PAGE, query_string={"q": "helios"})
    )  # a coach: no vault
    chosen = html(client.get(PAGE, query_string={"personne": user(SAMI).id, "q": "sami"}))
    assert "Espace de Sami" in chosen and "Déposer un document" in chosen and "Hichem" in chosen


# -- removal --------------------------------------------------------------------------------------


def test_removal_asks_first_then_is_audited_and_deletes_the_file(app, client, login):
    login(client, ASSISTANTE)
    upload(client, YASMINE, "bulletin.pdf", PDF)
    [document] = documents_of(YASMINE)
    document_id, path = document.id, vault.stored_file(document)
    assert path is not None
    url = f"{PAGE}/retirer/{document_id}"
    back = f"{PAGE}?personne={user(YASMINE).id}"
    assert f'action="{url}"' in html(client.get(back)) and "hx-confirm" in html(client.get(back))

    before = fingerprint()
    asked = client.post(url, data={"retour": back})
    assert asked.status_code == 200 and "Oui, retirer" in html(asked) and "bulletin.pdf" in html(asked)
    assert changed_tables(before, fingerprint()) == [] and path.exists()

    done = client.post(url, data={"retour": back, "confirm": "1"})
    assert done.status_code == 303 and done.headers["Location"] == back
    assert documents_of(YASMINE) == [] and not path.exists()
    [line] = audit_lines("vault.removed")
    assert line.actor_id == user(ASSISTANTE).id and line.object_id == document_id
    assert ("Fichier", "bulletin.pdf", None) in line.changes
    assert "a été retiré" in html(client.get(back))

    again = client.post(url, data={"confirm": "1"}, headers=HX)
    assert again.status_code == 404  # gone: nothing left to remove
    client.post("/auth/signout")
    login(client, YASMINE)
    assert client.get(f"/documents/{document_id}").status_code == 404


def test_removal_with_htmx_answers_the_row(client, login):
    login(client, ADMIN)
    upload(client, SAMI, "bulletin.pdf", PDF)
    document_id = documents_of(SAMI)[0].id
    response = client.post(f"{PAGE}/retirer/{document_id}", data={"confirm": "1"}, headers=HX)
    assert response.status_code == 200
    row = html(response)
    assert row.lstrip().startswith(f'<tr id="vault-doc-{document_id}"') and "a été retiré" in row
    assert documents_of(SAMI) == []


# -- session reports filed as PDFs ---------------------------------------------------------------

REPORT = {
    "summary": "Nous avons revu les suites arithmétiques et géométriques en détail.",
    "topics": "Suites, récurrence — limites",
    "rating": "4",
    "progress_notes": "Méthode plus sûre qu'il y a un mois.",
    "recommendations": "Refaire les exercices 3 à 7 du chapitre.",
    "attended": "y",
    "engagement": "HIGH",
    "homework": "Exercices 3 à 7",
    "next_focus": "Fonctions exponentielles",
}


def test_a_coachs_report_is_filed_as_a_pdf_for_the_student_and_each_parent_once(client, login, run_jobs):
    sami, helios = factories.student(SAMI), factories.coach("Hélios")
    booking = factories.booking(sami.id, helios.id, utcnow() - timedelta(minutes=30))
    login(client, HELIOS)
    assert client.post(f"/dashboard/coach/sessions/{booking.id}/rapport", data=REPORT).status_code == 303
    run_jobs()
    [for_sami], [for_parent] = documents_of(SAMI), documents_of(PARENT2)
    for document in (for_sami, for_parent):
        assert document.kind is DocumentKind.REPORT and document.session_report_id == booking.report.id
        data = vault.stored_file(document).read_bytes()  # type: ignore[union-attr]
        assert data.startswith(b"%PDF-") and document.mime_type == "application/pdf"
        assert document.title.startswith("Compte rendu — Mathématiques")
    assert for_sami.storage_path != for_parent.storage_path
    assert notifications_of(SAMI, "DOCUMENT") and notifications_of(PARENT2, "DOCUMENT")

    assert report_pdf.file_report(booking.report.id) == 0  # the job again: nothing more
    assert len(documents_of(SAMI)) == 1 and len(notifications_of(PARENT2, "DOCUMENT")) == 1
    client.post("/auth/signout")
    login(client, PARENT2)
    page = html(client.get("/dashboard/parent/ressources"))
    assert page.count("Compte rendu — Mathématiques") == 1  # their copy, not Sami's as well
    assert client.get(f"/documents/{for_parent.id}").status_code == 200
    assert client.get(f"/documents/{for_sami.id}").status_code == 200  # their child's copy too
    client.post("/auth/signout")
    login(client, PARENT)
    assert client.get(f"/documents/{for_parent.id}").status_code == 404


def a_report(booking_id: int, summary: str, rating: int = 4) -> SessionReport:
    report = SessionReport(booking_id=booking_id, summary=summary, topics="Suites", rating=rating,
                           progress_notes="Net progrès.", recommendations="Continuer.",
                           attended=True)  # fmt: skip
    db.session.add(report)
    return report


def test_the_pdf_holds_the_report_in_french():
    from pypdf import PdfReader

    sami, helios = factories.student(SAMI), factories.coach("Hélios")
    booking = factories.booking(sami.id, helios.id, utcnow() - timedelta(hours=2))
    report = a_report(booking.id, "Révision des suites 🙂 " + "x" * 8000, rating=5)
    db.session.flush()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report_pdf.render(report))).pages)
    assert "Compte rendu de séance" in text and "Révision des suites" in text and "5/5" in text
    assert "Hélios" in text and "Sami" in text


@pytest.mark.committed
def test_fifty_concurrent_runs_file_the_report_once_per_reader(app):
    with app.app_context():
        sami, helios = factories.student(SAMI), factories.coach("Hélios")
        booking = factories.booking(sami.id, helios.id, utcnow() - timedelta(hours=1))
        booking.status = SessionStatus.COMPLETED
        report = a_report(booking.id, "Les suites, encore et encore.")
        db.session.commit()
        report_id, readers = report.id, [user(SAMI).id, user(PARENT2).id]
        files = stored_files(app)

    results = at_once(app, lambda _: report_pdf.file_report(report_id))

    with app.app_context():
        assert sum(results) == len(readers)  # type: ignore[arg-type]
        rows = db.session.scalars(
            select(UserDocument).where(UserDocument.session_report_id == report_id)
        ).all()
        assert sorted(d.owner_id for d in rows) == sorted(readers)
        assert stored_files(app) - files == {vault.resolve(d.storage_path) for d in rows}
        notices = select(func.count(Notification.id)).where(Notification.kind == "DOCUMENT")
        assert db.session.scalar(notices) == len(readers)


def test_a_co_parent_is_family_too(client, login):
    from nexus.services import co_parents, family, vault_upload

    co_parents.invite(user(PARENT2), family.ParentDraft("Leila", "Gharbi", "leila.gharbi@example.tn"))
    leila = user("leila.gharbi@example.tn")
    login(client, ASSISTANTE)
    assert upload(client, SAMI, "bulletin.pdf", PDF).status_code == 303
    [document] = documents_of(SAMI)
    assert [n.title for n in notifications_of("leila.gharbi@example.tn", "DOCUMENT")] == [
        "Nouveau document pour Sami : Bulletin du 1er trimestre"
    ]
    assert vault.own_document(leila, document.id) is document
    assert [title for title, _ in ((d.title, c) for d, c in vault.family_documents(leila))] == [
        document.title
    ]
    assert vault.own_document(user(PARENT), document.id) is None
    assert vault_upload.family_lines([leila])[leila.id] == "Parent de Sami"


def test_an_erased_account_has_no_vault(app, client, login):
    user(PARENT2).anonymised_at = utcnow()
    login(client, ASSISTANTE)
    before, files = fingerprint(), stored_files(app)
    response = upload(client, PARENT2, "bulletin.pdf", PDF)
    assert response.status_code == 422 and "Personne ne correspond" in html(response)
    found = html(client.get(PAGE, query_string={"q": "Gharbi"}))
    assert 'Choisir<span class="sr-only"> Sami' in found and "> Hichem" not in found
    assert changed_tables(before, fingerprint()) == [] and stored_files(app) == files


def test_the_sweep_files_a_report_whose_job_was_lost_and_only_once():
    from nexus.jobs.vault import sweep_session_reports

    sami, helios = factories.student(SAMI), factories.coach("Hélios")
    booking = factories.booking(sami.id, helios.id, utcnow() - timedelta(hours=3))
    report = a_report(booking.id, "Les suites, sans job (Redis était arrêté).")
    db.session.flush()
    assert report.id in report_pdf.unfiled_reports(utcnow() - timedelta(days=2))
    assert sweep_session_reports() >= 2
    assert {d.owner_id for d in db.session.scalars(select(UserDocument).where(
        UserDocument.session_report_id == report.id))} == {user(SAMI).id, user(PARENT2).id}  # fmt: skip
    assert report_pdf.unfiled_reports(utcnow() - timedelta(days=2)) == [] and sweep_session_reports() == 0
