"""Attachments: a PDF or an image recognised by its content, a size limit, French refusals (422) with
nothing stored, and the file served only to those who may read the thread (404 otherwise)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.messaging import MessageAttachment, MessageThread
from nexus.services import utcnow
from tests import factories
from tests.helpers import changed_tables, fingerprint, html, stored_files, user
from tests.people import ADMIN, HELIOS, PARENT, PARENT2, SAMI, YASMINE, ZENON

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


def attachments() -> int:
    return db.session.scalar(select(func.count(MessageAttachment.id))) or 0


def send(client, filename: str, data: bytes, body: str = "Voici le document."):  # type: ignore[no-untyped-def]
    form = {"to": "centre", "subject": "Pièce jointe", "body": body, "file": (io.BytesIO(data), filename)}
    return client.post("/messages", data=form, content_type="multipart/form-data")


def latest_attachment() -> MessageAttachment:
    found = db.session.scalar(select(MessageAttachment).order_by(MessageAttachment.id.desc()).limit(1))
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("filename", "data", "mime"),
    [
        ("bulletin.pdf", PDF, "application/pdf"),
        ("photo.png", PNG, "image/png"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("photo.webp", WEBP, "image/webp"),
        ("sans-extension", PDF, "application/pdf"),  # the content decides, not the name
    ],
)
def test_a_pdf_or_an_image_is_attached_and_served_to_the_thread(client, login, filename, data, mime):
    login(client, PARENT)
    response = send(client, filename, data)
    assert response.status_code == 303
    attachment = latest_attachment()
    assert attachment.mime_type == mime and attachment.size_bytes == len(data)
    thread = db.session.scalar(select(MessageThread).order_by(MessageThread.id.desc()).limit(1))
    assert f"/messages/pieces/{attachment.id}" in html(client.get(f"/messages/{thread.id}"))
    served = client.get(f"/messages/pieces/{attachment.id}")
    assert served.status_code == 200 and served.data == data
    assert served.headers["Content-Type"].startswith(mime)
    assert (
        "attachment" in served.headers["Content-Disposition"]
        and filename in served.headers["Content-Disposition"]
    )
    assert served.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("bulletin.pdf", b"<html><script>alert(1)</script></html>", "Seuls les PDF et les images"),
        ("page.html", b"<html></html>", "Seuls les PDF et les images"),
        ("photo.gif", b"GIF89a" + b"\x00" * 20, "Seuls les PDF et les images"),
        ("vide.pdf", b"", "Le fichier est vide"),
    ],
)
def test_a_refused_file_says_why_in_french_and_nothing_is_kept(app, client, login, filename, data, message):
    login(client, PARENT)
    before, files = fingerprint(), stored_files(app)
    response = send(client, filename, data)
    assert response.status_code == 422
    assert message in html(response)
    assert changed_tables(before, fingerprint()) == []
    assert stored_files(app) == files


def test_a_file_over_the_limit_is_refused(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGE_ATTACHMENT_MAX_MB", 1)
    login(client, PARENT)
    files = stored_files(app)
    response = send(client, "gros.pdf", PDF + b"0" * (1024 * 1024))
    assert response.status_code == 422
    assert "dépasse 1 Mo" in html(response)
    assert attachments() == 0 and stored_files(app) == files


def test_a_rolled_back_message_leaves_no_file(app, client, login, monkeypatch):
    """The file is written, then the transaction fails: the file goes with it."""
    from nexus.services.messaging import threads

    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("après l'écriture du fichier")

    monkeypatch.setattr(threads, "_notify", boom)
    login(client, PARENT)
    files = stored_files(app)
    assert send(client, "bulletin.pdf", PDF).status_code == 500
    assert attachments() == 0 and stored_files(app) == files


def test_an_attachment_is_a_404_to_anyone_outside_the_thread(app, client, login, yasmine, helios):
    factories.booking(yasmine.id, helios.id, utcnow() + timedelta(days=3))
    login(client, PARENT)
    form = {
        "to": f"coach:{user(HELIOS).id}:{yasmine.id}",
        "subject": "Copie",
        "body": "La copie de Yasmine.",
        "file": (io.BytesIO(PDF), "copie.pdf"),
    }
    assert client.post("/messages", data=form, content_type="multipart/form-data").status_code == 303
    attachment = latest_attachment()
    for email in (PARENT2, SAMI, ZENON, YASMINE):  # Yasmine is not in her parent's thread with the coach
        other = app.test_client()
        login(other, email)
        assert other.get(f"/messages/pieces/{attachment.id}").status_code == 404
    for email in (HELIOS, ADMIN):  # the coach, and staff (a thread about a student)
        reader = app.test_client()
        login(reader, email)
        assert reader.get(f"/messages/pieces/{attachment.id}").status_code == 200
    assert client.get("/messages/pieces/999999").status_code == 404
