"""Staff filing a document in a family's or a student's vault, and removing one.

A file is recognised by its content (a PDF, an image, an office document), never by its name;
a refusal writes nothing (the stored file goes with the rollback, see nexus.services.vault). The
owner, and the parents of a student owner, are told in the bell; every filing and removal is
audited; a removed file is deleted once the removal commits.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select, union_all
from sqlalchemy.orm import aliased

from nexus import links
from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.family import CoParent, ParentProfile, Student
from nexus.models.identity import User
from nexus.models.vault import UPLOAD_KINDS, DocumentKind, UserDocument
from nexus.services import ServiceError, audit, command, locked, notifications, vault
from nexus.services.messaging.attachments import Upload
from nexus.services.messaging.attachments import kind_of as picture_or_pdf
from nexus.services.paging import Page, matches, paginate

__all__ = ["Choice", "Upload", "check", "choose", "owner", "people", "remove", "upload"]

DEFAULT_MAX_MB = 10
TITLE_MAX = 200
OWNER_ROLES = (Role.PARENT, Role.ELEVE)
NOTICE_KIND = "DOCUMENT"
# Office documents are zip files: the type is read inside (ODF's `mimetype` entry, OOXML's
# [Content_Types].xml main part), so a macro-enabled .docm or any other zip is refused.
ODF = {
    b"application/vnd.oasis.opendocument.text": ".odt",
    b"application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
OOXML = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
    ),
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xlsx",
    ),
}
MANIFEST_MAX = 64 * 1024  # a real [Content_Types].xml is a few kB: never inflate more
SAME_SUFFIX = {".jpg": (".jpg", ".jpeg"), ".pdf": (".pdf",)}
REFUSED_TYPE = (
    "Seuls les PDF, les images (PNG, JPEG, WebP) et les documents Word, Excel ou OpenDocument "
    "(docx, xlsx, odt, ods) peuvent être déposés : ce fichier n'en est pas un."
)


def max_bytes() -> int:
    return int(current_app.config.get("VAULT_MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024


def office_kind(data: bytes) -> tuple[str, str] | None:
    """(MIME type, suffix) of a docx, xlsx, odt or ods file, read inside the zip; else None."""
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if names and names[0] == "mimetype":
                info = archive.getinfo("mimetype")
                declared = archive.read(info).strip() if info.file_size <= 100 else b""
                suffix = ODF.get(declared)
                return (declared.decode(), suffix) if suffix else None
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size <= MANIFEST_MAX:
                    manifest = archive.read(info)
                    return next((kind for main, kind in OOXML.items() if main in manifest), None)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, RuntimeError, ValueError):
        return None  # RuntimeError: an encrypted entry; ValueError, OSError: a damaged archive
    return None


def kind_of(data: bytes) -> tuple[str, str] | None:
    """(MIME type, suffix) of an acceptable file from its content, or None."""
    return picture_or_pdf(data) or office_kind(data)


def check(file: Upload) -> tuple[str, str, str]:
    """(name to download it under, MIME type, suffix) of an acceptable file, or a French refusal."""
    name, mime, suffix = vault.accept(file.filename or "", file.data, max_bytes(), kind_of, REFUSED_TYPE)
    if Path(name).suffix.lower() not in SAME_SUFFIX.get(suffix, (suffix,)):
        name = f"{name}{suffix}"[-vault.MAX_FILENAME :]  # opened by the right program once saved
    return name, mime, suffix


# -- whose vault ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A parent or a student as the staff's search shows them."""

    user: User
    family: str  # "Parent de Yasmine, Adam" or "Enfant de Nadia Ben Ali"


def owner(user_id: int) -> User | None:
    """A parent or a student (not an erased account) whose vault staff may file in, else None."""
    found = db.session.get(User, user_id)
    if found is None or found.role not in OWNER_ROLES or found.anonymised_at is not None:
        return None
    return found


def people(query: str, number: int) -> Page[Person]:
    """Parents and students by name or e-mail, for the staff's choice."""
    stmt = (
        select(User)
        .where(User.role.in_(OWNER_ROLES), User.anonymised_at.is_(None))
        .where(matches(query, User.first_name + " " + User.last_name, User.last_name, User.email))
        .order_by(User.last_name, User.first_name, User.id)
    )
    page = paginate(stmt, number, per_page=20)
    lines = family_lines(page.items)
    return Page([Person(u, lines[u.id]) for u in page.items], page.number, page.per_page, page.total)


@dataclass(frozen=True)
class Choice:
    """Whose vault a staff member meant, or why it is not clear (a French message)."""

    person: User | None
    problem: str | None = None


def choose(owner_id: int | None, typed: str) -> Choice:
    """The person chosen in the search (`owner_id`, while the name shown is kept), or the one
    parent or student the typed name or address designates."""
    typed = " ".join(typed.split())
    chosen = owner(owner_id) if owner_id is not None else None
    if chosen is not None and typed.casefold() in (
        chosen.full_name.casefold(),
        (chosen.email or "").casefold(),
    ):
        return Choice(chosen)
    if not typed:
        return Choice(None, "Indiquez le parent ou l'élève : nom ou adresse e-mail.")
    found = people(typed, 1)
    exact = [p.user for p in found.items if typed.casefold() in _names(p.user)]
    if found.total == 1 or len(exact) == 1:
        return Choice(found.items[0].user if found.total == 1 else exact[0])
    shown = typed[:60]
    if found.total == 0:
        return Choice(None, f"Personne ne correspond à « {shown} » : vérifiez le nom ou l'adresse e-mail.")
    return Choice(
        None,
        f"{found.total} personnes correspondent à « {shown} » : choisissez-la dans la recherche, "
        "puis joignez de nouveau le fichier.",
    )


def _names(user: User) -> tuple[str, ...]:
    """What designates a person exactly: first name, full name, address (case aside)."""
    return (user.first_name.casefold(), user.full_name.casefold(), (user.email or "").casefold())


def family_lines(users: list[User]) -> dict[int, str]:
    """Who each person is to their family, in a few words (two queries for a whole page)."""
    ids = [u.id for u in users]
    parent_user, child_user = aliased(User), aliased(User)
    students = (
        select(Student.user_id, parent_user.first_name, parent_user.last_name)
        .join(ParentProfile, ParentProfile.id == Student.parent_id)
        .join(parent_user, parent_user.id == ParentProfile.user_id)
        .where(Student.user_id.in_(ids))
    )
    lines = {uid: f"Enfant de {first} {last}" for uid, first, last in db.session.execute(students)}
    # A parent is the one who opened the family or a co-parent: the children of either.
    guardians = union_all(
        select(ParentProfile.user_id.label("uid"), ParentProfile.id.label("pid")).where(
            ParentProfile.user_id.in_(ids)
        ),
        select(CoParent.user_id, CoParent.profile_id).where(CoParent.user_id.in_(ids)),
    ).subquery()
    children = (
        select(guardians.c.uid, child_user.first_name)
        .join(Student, Student.parent_id == guardians.c.pid)
        .join(child_user, child_user.id == Student.user_id)
        .order_by(guardians.c.uid, Student.id)
    )
    names: dict[int, list[str]] = {}
    for uid, first in db.session.execute(children):
        names.setdefault(uid, []).append(first)
    lines |= {uid: "Parent de " + ", ".join(firsts) for uid, firsts in names.items()}
    return {u.id: lines.get(u.id, u.role.label) for u in users}


def family_of(user: User) -> list[User]:
    """The other members of the person's family (a parent's children, a student's parents)."""
    if user.role is Role.PARENT:
        ids = sorted(vault.children_user_ids(user.id))
        return [u for u in (db.session.get(User, i) for i in ids) if u is not None]
    student = db.session.scalar(select(Student).where(Student.user_id == user.id))
    return list(student.parent.guardians) if student else []


def guardians_of(student_user_id: int) -> list[User]:
    """The parents of a student (who opened the family, then the co-parents); none for others."""
    profile = db.session.scalar(
        select(ParentProfile)
        .join(Student, Student.parent_id == ParentProfile.id)
        .where(Student.user_id == student_user_id)
    )
    return list(profile.guardians) if profile else []


# -- filing and removing ----------------------------------------------------------------------


@command
def upload(actor: User, owner_id: int, title: str, kind: DocumentKind, file: Upload) -> UserDocument:
    """File a document in the vault of a parent or a student; they (and a student's parents)
    are told in the bell. LookupError when there is no such vault."""
    person = owner(owner_id)
    if person is None:
        raise LookupError(owner_id)
    if kind not in UPLOAD_KINDS:
        raise ServiceError("Choisissez un type de document dans la liste.", field="kind")
    title = " ".join(title.split())
    if not title or len(title) > TITLE_MAX:
        raise ServiceError(f"Donnez un titre au document ({TITLE_MAX} caractères au plus).", field="title")
    name, mime, suffix = check(file)
    document = vault.add(
        person.id, kind, title, name, file.data, mime, uploaded_by_id=actor.id, suffix=suffix
    )
    after = {"title": title, "kind": kind.value, "owner": person.id, "file": name, "size": len(file.data)}
    audit.record("vault.filed", actor.id, document, after=after)
    tell(person, document)
    return document


def tell(person: User, document: UserDocument) -> None:
    """The bell of the owner, and of a student owner's parents."""
    what = f"{document.kind.label} · {document.original_name}"
    own_page = "documents.parent_documents" if person.role is Role.PARENT else "documents.student_documents"
    title = f"Nouveau document : {document.title}"[:160]
    notifications.notify(person.id, NOTICE_KIND, title, what, links.internal(own_page))
    if person.role is Role.ELEVE:
        family_title = f"Nouveau document pour {person.first_name} : {document.title}"[:160]
        for parent in guardians_of(person.id):
            notifications.notify(
                parent.id, NOTICE_KIND, family_title, what, links.internal("documents.parent_documents")
            )


def document(document_id: int) -> UserDocument | None:
    """A vault document, for staff."""
    return db.session.get(UserDocument, document_id)


@command
def remove(actor: User, document_id: int) -> UserDocument | None:
    """Take a document out of its vault (audited); its file goes once this commits. None when
    it was already removed (a second click)."""
    found = locked(UserDocument, document_id)
    if found is None:
        return None
    before = {
        "title": found.title,
        "kind": found.kind.value,
        "owner": found.owner_id,
        "file": found.original_name,
        "size": found.size_bytes,
    }
    audit.record("vault.removed", actor.id, found, before=before)
    vault.discard_after_commit(found.storage_path)
    db.session.delete(found)
    db.session.flush()
    return found
