"""Files sent with a message: a PDF or an image, recognised by its content, stored like the vault
(random name under instance storage; a rollback removes the file), served only to readers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.identity import User
from nexus.models.messaging import Message, MessageAttachment
from nexus.services import vault
from nexus.services.messaging.access import visible_thread

DEFAULT_MAX_MB = 5
# What a file starts with, its type and the suffix it is stored with (the name typed is not trusted).
KINDS = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


@dataclass(frozen=True)
class Upload:
    """A file as the form received it."""

    filename: str
    data: bytes


def max_bytes() -> int:
    return int(current_app.config.get("MESSAGE_ATTACHMENT_MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024


def kind_of(data: bytes) -> tuple[str, str] | None:
    """(MIME type, suffix) from the file's first bytes, or None when it is not one we accept."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    for magic, mime, suffix in KINDS:
        if data.startswith(magic):
            return mime, suffix
    return None


def check(upload: Upload) -> tuple[str, str, str]:
    """(clean name, MIME type, suffix) of an acceptable file, or a French refusal."""
    refused = (
        "Seuls les PDF et les images (PNG, JPEG, WebP) peuvent être joints : ce fichier n'en est pas un."
    )
    return vault.accept(upload.filename or "", upload.data, max_bytes(), kind_of, refused)


def attach(message: Message, upload: Upload) -> MessageAttachment:
    """Store the file and link it to the message (in the caller's transaction)."""
    name, mime, suffix = check(upload)
    row = MessageAttachment(
        message_id=message.id,
        original_name=name,
        mime_type=mime,
        size_bytes=len(upload.data),
        storage_path=vault.store(upload.data, suffix),
    )
    db.session.add(row)
    return row


def visible_attachment(user: User, attachment_id: int) -> MessageAttachment | None:
    """The attachment if the user may read its thread, else None (answer 404)."""
    row = db.session.execute(
        select(MessageAttachment, Message.thread_id)
        .join(Message, Message.id == MessageAttachment.message_id)
        .where(MessageAttachment.id == attachment_id)
    ).first()
    if row is None or visible_thread(user, row.thread_id) is None:
        return None
    return row[0]


def stored_path(attachment: MessageAttachment) -> Path | None:
    """Where the file is, or None when it is missing (or its path escapes storage)."""
    try:
        path = vault.resolve(attachment.storage_path)
    except LookupError:
        return None
    return path if path.exists() else None
