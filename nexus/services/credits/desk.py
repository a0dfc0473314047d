"""Credits by hand: staff add or remove credits with a reason, parents ask for credits and staff
approve (a lot is granted) or reject the request, once."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import joinedload

from nexus import fr, links
from nexus.extensions import db
from nexus.models.credits import CreditLot, CreditRequest, EntryKind, LotSource, RequestStatus
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import User
from nexus.services import ServiceError, audit, command, family, notifications, recent, utcnow
from nexus.services.credits.ledger import (
    check_amount,
    credit_amount,
    draw,
    grant,
    lock_student,
)
from nexus.services.paging import Page, matches, paginate
from nexus.text import check_line, check_size

REQUEST_VALIDITY = timedelta(days=365)
MAX_REQUESTS_PER_DAY = 5  # per parent, all children together
REQUEST_WINDOW = timedelta(hours=24)


@command
def manual_grant(student_id: int, amount: Decimal, reason: str, actor_id: int, days: int = 365) -> CreditLot:
    """Staff add credits by hand, with a reason (audited)."""
    reason = _reason(reason)
    if not 1 <= days <= 730:
        raise ServiceError("La validité doit être comprise entre 1 et 730 jours.", "days")
    lot = grant(
        student_id,
        amount,
        LotSource.MANUAL,
        utcnow() + timedelta(days=days),
        reason=reason,
        actor_id=actor_id,
    )
    if lot is None:  # only a subscription's monthly lot can be refused as a duplicate
        raise LookupError(student_id)
    audit.record("credits.manual_grant", actor_id, lot, after={"amount": str(lot.amount), "reason": reason})
    return lot


@command
def manual_deduct(student_id: int, amount: Decimal, reason: str, actor_id: int) -> Decimal:
    """Staff remove credits by hand (a correction), first-expiring lot first, with a reason."""
    reason = _reason(reason)
    amount = check_amount(amount)
    lock_student(student_id)
    draw(student_id, amount, EntryKind.ADJUST, actor_id, note=reason)
    audit.record(
        "credits.manual_deduct", actor_id, None, after={"student_id": student_id, "amount": str(amount)}
    )
    return amount


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ServiceError("Indiquez un motif (5 caractères au moins).", "reason")
    check_line(reason, "reason")
    check_size(reason, "reason", 255)
    return reason


@command
def request_credits(parent_id: int, student_id: int, amount: Decimal, reason: str | None) -> CreditRequest:
    """A parent asks for credits; nothing counts until staff approve.

    Each request notifies every staff member, so a parent has one pending request per child
    and MAX_REQUESTS_PER_DAY in 24 hours; the parent's row is locked so that concurrent
    requests are counted one after the other.
    """
    amount = credit_amount(amount, Decimal(1), Decimal(20), "Demandez entre 1 et 20 crédits.")
    reason = (reason or "").strip() or None
    check_line(reason, "reason")
    check_size(reason, "reason", 500)
    now = utcnow()
    family_row = select(ParentProfile.id).where(ParentProfile.id.in_(family.family_ids(parent_id)))
    db.session.execute(family_row.with_for_update())
    _check_request_bounds(parent_id, student_id, now)
    row = CreditRequest(
        student_id=student_id,
        requested_by_id=parent_id,
        amount=amount,
        reason=reason,
        status=RequestStatus.PENDING,
        created_at=now,  # the application's clock, the one the daily bound counts with
    )
    db.session.add(row)
    db.session.flush()
    notifications.notify_staff(
        "CREDIT_REQUEST",
        "Nouvelle demande de crédits",
        f"{fr.plural(amount, 'crédit demandé', 'crédits demandés')}.",
        links.internal("credits.desk"),
    )
    return row


def _check_request_bounds(parent_id: int, student_id: int, now: datetime) -> None:
    pending = db.session.scalar(
        select(func.count()).where(
            CreditRequest.student_id == student_id, CreditRequest.status == RequestStatus.PENDING
        )
    )
    if pending:
        raise ServiceError(
            "Une demande de crédits pour cet enfant attend déjà la réponse de notre équipe : "
            "nous vous prévenons dès qu'elle est traitée."
        )
    recent = db.session.scalar(
        select(func.count()).where(
            CreditRequest.requested_by_id == parent_id, CreditRequest.created_at > now - REQUEST_WINDOW
        )
    )
    if recent >= MAX_REQUESTS_PER_DAY:
        raise ServiceError(
            f"Vous avez déjà envoyé {MAX_REQUESTS_PER_DAY} demandes de crédits en 24 heures : "
            "réessayez demain, ou écrivez-nous si c'est urgent."
        )


@command
def decide_request(request_id: int, approve: bool, actor_id: int, reason: str | None = None) -> CreditRequest:
    """Approve (a lot is granted) or reject a PENDING request; a second decision is refused."""
    reason = None if approve else _reason(reason or "")  # an approval has no reason to keep
    target = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    claimed = db.session.scalar(
        update(CreditRequest)
        .where(CreditRequest.id == request_id, CreditRequest.status == RequestStatus.PENDING)
        .values(status=target, processed_by_id=actor_id, processed_at=utcnow(), rejection_reason=reason)
        .returning(CreditRequest.id)
    )
    row = db.session.get(CreditRequest, request_id)
    if row is None:
        raise LookupError(request_id)
    if claimed is None:
        raise ServiceError("Cette demande a déjà été traitée.")
    db.session.refresh(row)
    if approve:
        lot = grant(
            row.student_id,
            row.amount,
            LotSource.REQUEST,
            utcnow() + REQUEST_VALIDITY,
            actor_id=actor_id,
            reason="Demande de crédits approuvée",
        )
        row.lot_id = lot.id if lot else None
    if row.requested_by_id:
        notifications.notify(
            row.requested_by_id,
            "CREDIT_REQUEST_DECIDED",
            f"Demande de crédits {'approuvée' if approve else 'refusée'}",
            reason,  # in the body: a title holds 160 characters, a reason 255
            links.internal("dashboard.parent"),
        )
    audit.record(f"credits.request_{target.value.lower()}", actor_id, row, after={"amount": str(row.amount)})
    return row


def desk_students() -> list[Student]:
    """Every student with their account, by name: the staff desk's table and its choice."""
    stmt = select(Student).join(User, Student.user_id == User.id).options(joinedload(Student.user))
    return list(db.session.scalars(stmt.order_by(User.last_name, User.first_name)))


def students_stmt(query: str) -> Select[tuple[Student]]:
    """The balances table's students by name, filtered by name or e-mail (the ledger's CSV export
    takes their entries)."""
    stmt = select(Student).join(User, Student.user_id == User.id)
    if query.strip():
        stmt = stmt.where(matches(query, User.first_name + " " + User.last_name, User.email))
    return stmt.order_by(User.last_name, User.first_name, Student.id)


def students_page(query: str, number: int) -> Page[Student]:
    """The balances table: students by name, filtered by name or e-mail, one page at a time."""
    return paginate(students_stmt(query).options(joinedload(Student.user)), number)


def pending_requests() -> list[CreditRequest]:
    stmt = (
        select(CreditRequest).where(CreditRequest.status == RequestStatus.PENDING).order_by(CreditRequest.id)
    )
    return list(db.session.scalars(stmt))


def recently_decided_requests() -> list[recent.Processed]:
    """The requests staff approved or rejected this week, newest first, with who decided."""
    return recent.decided(
        CreditRequest,
        RequestStatus.PENDING,
        RequestStatus.APPROVED,
        lambda row: f"{row.student.user.full_name} · {fr.credits(row.amount)}",
    )
