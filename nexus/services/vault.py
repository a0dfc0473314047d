"""The family document vault: files stored under instance/storage with random names.

A file written during a transaction belongs to it: it is removed again when the transaction ends
without a commit (a refusal, a rollback, an unexpected error), so no orphan file stays behind.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from nexus import policy
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import CoParent, ParentProfile, Student
from nexus.models.identity import User
from nexus.models.vault import DocumentKind, UserDocument
from nexus.services import ServiceError

log = logging.getLogger(__name__)
MAX_FILENAME = 255
NEW_FILES = "vault_new_files"  # session.info key: files written by the current transaction
OLD_FILES = "vault_old_files"  # session.info key: files to remove once the transaction commits
# Controls, invisible formatting (bidi overrides, zero-width), line/paragraph separators, and
# lone surrogates: a name holding them cannot be stored, shown or sent in a header safely.
FORBIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


def clean_filename(raw: str) -> str:
    """The last part of an uploaded file's name (no folders), or a French refusal."""
    if any(unicodedata.category(char) in FORBIDDEN_CATEGORIES for char in raw):
        raise ServiceError(
            "Le nom du fichier contient un caractère invisible ou de contrôle : renommez le fichier "
            "puis envoyez-le de nouveau.",
            field="file",
        )
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        raise ServiceError("Le nom du fichier est vide : renommez le fichier.", field="file")
    if len(name) > MAX_FILENAME:
        raise ServiceError(
            f"Le nom du fichier est trop long ({MAX_FILENAME} caractères au plus) : renommez-le.",
            field="file",
        )
    return name


def accept(
    filename: str, data: bytes, limit: int, kind_of: Callable[[bytes], tuple[str, str] | None], refused: str
) -> tuple[str, str, str]:
    """(clean name, MIME type, suffix) of a file of at most `limit` bytes whose content `kind_of`
    recognises (the name typed is not trusted), or a French refusal (`refused` for the type)."""
    name = clean_filename(filename)
    if not data:
        raise ServiceError("Le fichier est vide : choisissez un autre fichier.", field="file")
    if len(data) > limit:
        raise ServiceError(
            f"Le fichier dépasse {limit // (1024 * 1024)} Mo : réduisez-le ou envoyez-en un autre.",
            field="file",
        )
    kind = kind_of(data)
    if kind is None:
        raise ServiceError(refused, field="file")
    return name, *kind


def storage_root() -> Path:
    root = Path(current_app.instance_path) / "storage"
    root.mkdir(parents=True, exist_ok=True)
    return root


def store(data: bytes, suffix: str) -> str:
    """Write bytes under a random name; return the path relative to the storage root."""
    relative = f"{secrets.token_hex(16)}{suffix}"
    (storage_root() / relative).write_bytes(data)
    db.session.info.setdefault(NEW_FILES, []).append(relative)
    return relative


def discard(relative: str) -> None:
    """Remove a stored file (a missing one is not an error)."""
    try:
        resolve(relative).unlink(missing_ok=True)
    except (LookupError, OSError, RuntimeError):  # RuntimeError: no app context
        log.warning("could not remove %s", relative, exc_info=True)


def replace(document: UserDocument, data: bytes) -> None:
    """New content for a stored document: a new file now, the old one removed after the commit
    (a rollback keeps the old file, as the row still points to it)."""
    old = document.storage_path
    document.storage_path = store(data, Path(old).suffix)
    document.size_bytes = len(data)
    discard_after_commit(old)


def discard_after_commit(relative: str) -> None:
    """Remove a stored file once the current transaction commits (a rollback keeps it)."""
    db.session.info.setdefault(OLD_FILES, []).append(relative)


@event.listens_for(Session, "after_commit")
def _keep_new_files(session: Session) -> None:
    session.info.pop(NEW_FILES, None)
    for relative in session.info.pop(OLD_FILES, []):
        discard(relative)


@event.listens_for(Session, "after_transaction_end")
def _discard_uncommitted_files(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit: its files go too, the old ones stay."""
    if transaction.parent is None:
        for relative in session.info.pop(NEW_FILES, []):
            discard(relative)
        session.info.pop(OLD_FILES, None)


def resolve(relative: str) -> Path:
    """Absolute path of a stored file, refusing anything that escapes the storage root."""
    root = storage_root().resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise LookupError(relative)
    return path


def stored_file(document: UserDocument) -> Path | None:
    """Where a document's file is, or None when it is missing (or its path escapes storage)."""
    try:
        path = resolve(document.storage_path)
    except LookupError:
        return None
    return path if path.exists() else None


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
    suffix: str | None = None,
) -> UserDocument:
    """File a document in a user's vault (in the caller's transaction). `suffix`: the stored
    file's, when the content decided it (the name typed is not trusted)."""
    filename = clean_filename(filename)
    suffix = suffix or Path(filename).suffix.lower()[:10]
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
    """The document if the user may open it, else None → 404: its owner, the parents of a
    student owner (the family), and staff."""
    document = db.session.get(UserDocument, document_id)
    if document is None:
        return None
    if document.owner_id == user.id or policy.is_staff(user):
        return document
    if user.role is Role.PARENT and document.owner_id in children_user_ids(user.id):
        return document
    return None


def children_user_ids(parent_user_id: int) -> set[int]:
    """The user ids of the students a parent (who opened the family, or a co-parent) is
    responsible for."""
    co_parent_profiles = select(CoParent.profile_id).where(CoParent.user_id == parent_user_id)
    stmt = (
        select(Student.user_id)
        .join(ParentProfile, ParentProfile.id == Student.parent_id)
        .where((ParentProfile.user_id == parent_user_id) | ParentProfile.id.in_(co_parent_profiles))
    )
    return set(db.session.scalars(stmt))


def family_documents(parent: User) -> list[tuple[UserDocument, str | None]]:
    """A parent's documents and their children's, newest first, each with the child's first name
    (None for the parent's own). A child's session reports are left out: each parent has a copy."""
    children = children_user_ids(parent.id)
    stmt = (
        select(UserDocument, User.first_name)
        .join(User, User.id == UserDocument.owner_id)
        .where(
            (UserDocument.owner_id == parent.id)
            | (UserDocument.owner_id.in_(children) & UserDocument.session_report_id.is_(None))
        )
        .order_by(UserDocument.id.desc())
    )
    return [(doc, None if doc.owner_id == parent.id else name) for doc, name in db.session.execute(stmt)]
