"""The family document vault: files stored under instance/storage with random names."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.identity import User
from nexus.models.vault import DocumentKind, UserDocument


def storage_root() -> Path:
    root = Path(current_app.instance_path) / "storage"
    root.mkdir(parents=True, exist_ok=True)
    return root


def store(data: bytes, suffix: str) -> str:
    """Write bytes under a random name; return the path relative to the storage root."""
    relative = f"{secrets.token_hex(16)}{suffix}"
    (storage_root() / relative).write_bytes(data)
    return relative


def resolve(relative: str) -> Path:
    """Absolute path of a stored file, refusing anything that escapes the storage root."""
    root = storage_root().resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise LookupError(relative)
    return path


def add(
    owner_id: int,
    kind: DocumentKind,
    title: str,
    filename: str,
    data: bytes,
    mime_type: str = "application/pdf",
    *,
    invoice_id: int | None = None,
    uploaded_by_id: int | None = None,
) -> UserDocument:
    suffix = Path(filename).suffix.lower()[:10]
    document = UserDocument(
        owner_id=owner_id,
        kind=kind,
        title=title,
        original_name=filename,
        mime_type=mime_type,
        size_bytes=len(data),
        storage_path=store(data, suffix),
        invoice_id=invoice_id,
        uploaded_by_id=uploaded_by_id,
    )
    db.session.add(document)
    db.session.flush()
    return document


def documents_of(user: User) -> list[UserDocument]:
    stmt = select(UserDocument).where(UserDocument.owner_id == user.id).order_by(UserDocument.id.desc())
    return list(db.session.scalars(stmt))


def own_document(user: User, document_id: int) -> UserDocument | None:
    """The document if the user owns it (staff may open any), else None → 404."""
    document = db.session.get(UserDocument, document_id)
    if document is None:
        return None
    if document.owner_id == user.id or user.role.value in ("ADMIN", "ASSISTANTE"):
        return document
    return None
