"""The credit ledger (rule 3). balance() is the one and only balance function.

Credits come in lots that expire together; every movement is a signed entry on one lot.
- grant: a lot and its GRANT entry;
- consume: from the lot that expires first, for one booking;
- refund: back to the lots the booking consumed, once;
- expire: an EXPIRE entry of what is left of a lot, once (and a reminder to the family the week
  before).
Every change locks the student's row first, so concurrent changes for one student queue up
instead of both spending the same credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from nexus.extensions import db
from nexus.models.common import Role
from nexus.models.credits import CreditEntry, CreditLot, CreditRequest, EntryKind, LotSource, RequestStatus
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import User
from nexus.numbers import exact
from nexus.services import ServiceError, audit, command, family, notifications, utcnow
from nexus.text import check_line, check_size

MAX_GRANT = Decimal(500)
CENT = Decimal("0.01")
REMINDER_DAYS = 7
TUNIS = ZoneInfo("Africa/Tunis")


class InsufficientCredits(ServiceError):
    def __init__(self, needed: Decimal, available: Decimal) -> None:
        super().__init__(
            f"Crédits insuffisants : il faut {_fmt(needed)} crédit(s), il en reste {_fmt(available)}."
        )
        self.needed = needed
        self.available = available


def _fmt(value: Decimal) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _remaining() -> Any:
    """What is left: the sum of the entries (of a lot, when grouped or filtered by lot)."""
    return func.coalesce(func.sum(CreditEntry.amount), 0)


def lot_remaining(lot_id: int) -> Decimal:
    """What is left on one lot, expired or not."""
    return Decimal(db.session.scalar(select(_remaining()).where(CreditEntry.lot_id == lot_id)))


def balances(student_ids: list[int], at: datetime | None = None) -> dict[int, Decimal]:
    """Credits usable now, per student: the sum of the entries of the lots that have not expired."""
    at = at or utcnow()
    rows = db.session.execute(
        select(CreditEntry.student_id, _remaining())
        .join(CreditLot, CreditEntry.lot_id == CreditLot.id)
        .where(CreditEntry.student_id.in_(student_ids), CreditLot.expires_at > at)
        .group_by(CreditEntry.student_id)
    ).all()
    found = {student_id: Decimal(total) for student_id, total in rows}
    return {student_id: found.get(student_id, Decimal(0)) for student_id in student_ids}


def balance(student_id: int, at: datetime | None = None) -> Decimal:
    return balances([student_id], at)[student_id]


@dataclass(frozen=True)
class LotView:
    lot_id: int
    source: LotSource
    remaining: Decimal
    expires_at: datetime


def open_lots_of(student_ids: list[int], at: datetime | None = None) -> dict[int, list[LotView]]:
    """Unexpired lots with credits left, first to expire first (the order consumption follows)."""
    at = at or utcnow()
    stmt = (
        select(CreditLot.student_id, CreditLot.id, CreditLot.source, _remaining(), CreditLot.expires_at)
        .join(CreditEntry, CreditEntry.lot_id == CreditLot.id)
        .where(CreditLot.student_id.in_(student_ids), CreditLot.expires_at > at)
        .group_by(CreditLot.id)
        .having(_remaining() > 0)
        .order_by(CreditLot.expires_at, CreditLot.id)
    )
    lots: dict[int, list[LotView]] = {student_id: [] for student_id in student_ids}
    for student_id, lot_id, source, left, expires_at in db.session.execute(stmt):
        lots[student_id].append(LotView(lot_id, source, Decimal(left), expires_at))
    return lots


def open_lots(student_id: int, at: datetime | None = None) -> list[LotView]:
    return open_lots_of([student_id], at)[student_id]


def lock_student(student_id: int) -> Student:
    """Serialise ledger changes of one student (SELECT … FOR UPDATE on the student row)."""
    student = db.session.scalar(select(Student).where(Student.id == student_id).with_for_update())
    if student is None:
        raise LookupError(student_id)
    return student


def _credits(amount: Decimal | int, low: Decimal, high: Decimal, message: str) -> Decimal:
    """An exact amount of credits within [low, high] (hundredths at most), or a refusal on the
    amount field: NaN, Infinity, 1E+309 or 2.555 are refused, never rounded or crashed on."""
    if isinstance(amount, int) and not isinstance(amount, bool):
        amount = Decimal(amount)
    if not exact(amount, 2) or not low <= amount <= high:
        raise ServiceError(message, "amount")
    return amount.quantize(CENT)


def _check_amount(amount: Decimal | int) -> Decimal:
    message = f"Le nombre de crédits doit être compris entre 0,01 et {MAX_GRANT}."
    return _credits(amount, CENT, MAX_GRANT, message)


def grant(
    student_id: int,
    amount: Decimal,
    source: LotSource,
    expires_at: datetime,
    *,
    subscription_id: int | None = None,
    period: str | None = None,
    payment_id: int | None = None,
    reason: str | None = None,
    actor_id: int | None = None,
) -> CreditLot | None:
    """Grant a lot. A subscription's allocation for a period is granted once: None the second time."""
    amount = _check_amount(amount)
    lock_student(student_id)
    lot_id = db.session.scalar(
        insert(CreditLot)
        .values(
            student_id=student_id,
            source=source,
            amount=amount,
            granted_at=utcnow(),
            expires_at=expires_at,
            subscription_id=subscription_id,
            period=period,
            payment_id=payment_id,
            reason=reason,
            granted_by_id=actor_id,
        )
        .on_conflict_do_nothing(
            index_elements=["subscription_id", "period"],
            index_where=CreditLot.subscription_id.isnot(None),
        )
        .returning(CreditLot.id)
    )
    if lot_id is None:
        return None
    db.session.add(
        CreditEntry(
            student_id=student_id, lot_id=lot_id, kind=EntryKind.GRANT, amount=amount, actor_id=actor_id
        )
    )
    db.session.flush()
    return db.session.get(CreditLot, lot_id)


def consume(student_id: int, amount: Decimal, booking_id: int, actor_id: int | None = None) -> Decimal:
    """Spend credits for a booking, first-expiring lot first; refuse if there are not enough."""
    amount = _check_amount(amount)
    lock_student(student_id)
    already = db.session.scalar(
        select(func.count()).where(
            CreditEntry.booking_id == booking_id, CreditEntry.kind == EntryKind.CONSUME
        )
    )
    if already:
        return amount  # a retry of the same booking spends nothing more
    _draw(student_id, amount, EntryKind.CONSUME, actor_id, booking_id=booking_id)
    return amount


def _draw(student_id: int, amount: Decimal, kind: EntryKind, actor_id: int | None, **extra: Any) -> None:
    """Take amount from the student's open lots, first to expire first (the student is locked)."""
    lots = open_lots(student_id)
    available = sum((lot.remaining for lot in lots), Decimal(0))
    if available < amount:
        raise InsufficientCredits(amount, available)
    left = amount
    for lot in lots:
        take = min(lot.remaining, left)
        db.session.add(
            CreditEntry(
                student_id=student_id, lot_id=lot.lot_id, kind=kind, amount=-take, actor_id=actor_id, **extra
            )
        )
        left -= take
        if left == 0:
            break
    db.session.flush()


def refund(student_id: int, booking_id: int, actor_id: int | None = None, note: str | None = None) -> Decimal:
    """Give back what a booking consumed, to the same lots; a second refund gives nothing."""
    lock_student(student_id)
    consumed = db.session.execute(
        select(CreditEntry.lot_id, CreditEntry.amount).where(
            CreditEntry.booking_id == booking_id,
            CreditEntry.kind == EntryKind.CONSUME,
            CreditEntry.student_id == student_id,
        )
    ).all()
    total = Decimal(0)
    for lot_id, amount in consumed:
        inserted = db.session.scalar(
            insert(CreditEntry)
            .values(
                student_id=student_id,
                lot_id=lot_id,
                kind=EntryKind.REFUND,
                amount=-amount,
                booking_id=booking_id,
                actor_id=actor_id,
                note=note,
            )
            .on_conflict_do_nothing(
                index_elements=["booking_id", "lot_id", "kind"],
                index_where=CreditEntry.booking_id.isnot(None),
            )
            .returning(CreditEntry.id)
        )
        if inserted is not None:
            total += -amount
    return total


@command
def expire_due(at: datetime | None = None) -> int:
    """Write an EXPIRE entry for what is left of each expired lot (once per lot)."""
    at = at or utcnow()
    due = db.session.execute(
        select(CreditLot.id, CreditLot.student_id)
        .join(CreditEntry, CreditEntry.lot_id == CreditLot.id)
        .where(CreditLot.expires_at <= at)
        .group_by(CreditLot.id)
        .having(_remaining() > 0)
        # Students are locked one after another until the job commits: always in the same order,
        # so that two runs at once queue up instead of deadlocking.
        .order_by(CreditLot.student_id, CreditLot.id)
    ).all()
    count = 0
    for lot_id, student_id in due:
        lock_student(student_id)
        left = lot_remaining(lot_id)
        if left <= 0:
            continue
        inserted = db.session.scalar(
            insert(CreditEntry)
            .values(student_id=student_id, lot_id=lot_id, kind=EntryKind.EXPIRE, amount=-left)
            .on_conflict_do_nothing(index_elements=["lot_id"], index_where=text("kind = 'EXPIRE'"))
            .returning(CreditEntry.id)
        )
        count += inserted is not None
    return count


def lots_expiring_soon(at: datetime | None = None) -> list[int]:
    """The lots with credits left that expire within REMINDER_DAYS (the reminders to send)."""
    at = at or utcnow()
    stmt = (
        select(CreditLot.id)
        .join(CreditEntry, CreditEntry.lot_id == CreditLot.id)
        .where(CreditLot.expires_at > at, CreditLot.expires_at <= at + timedelta(days=REMINDER_DAYS))
        .group_by(CreditLot.id)
        .having(_remaining() > 0)
        .order_by(CreditLot.id)
    )
    return list(db.session.scalars(stmt))


@command
def remind_expiring(lot_id: int, at: datetime | None = None) -> bool:
    """E-mail (and notify) the family's parents once about a lot whose credits expire within
    REMINDER_DAYS; True if someone was told now, False if they had been (or nothing is left)."""
    at = at or utcnow()
    lot = db.session.get(CreditLot, lot_id)
    if lot is None or not at < lot.expires_at <= at + timedelta(days=REMINDER_DAYS):
        return False
    left = lot_remaining(lot_id)
    if left <= 0:
        return False
    student = db.session.get_one(Student, lot.student_id)
    parents = [p for p in student.parent.guardians if p.email and p.is_active]  # co-parents too
    told = [_remind_parent(parent, student, lot, left) for parent in parents]
    return any(told)


def _remind_parent(parent: User, student: Student, lot: CreditLot, left: Decimal) -> bool:
    """E-mail and notify one parent once per lot; True if it was not done before."""
    first = parent.id == student.parent.user_id  # the opener keeps the key of one-parent days
    queued = notifications.queue_email(
        parent.email or "",
        "credits_expiring",
        f"Rappel : des crédits de {student.user.first_name} expirent bientôt",
        {
            "first_name": parent.first_name,
            "child": student.user.first_name,
            "credits": str(left),
            "expires_on": lot.expires_at.astimezone(TUNIS).strftime("%d/%m/%Y"),
        },
        user_id=parent.id,
        dedupe_key=f"credits-expiring:{lot.id}" + ("" if first else f":{parent.id}"),
    )
    if queued is None:
        return False
    notifications.notify(
        parent.id,
        "CREDITS_EXPIRING",
        f"Crédits de {student.user.first_name} bientôt expirés",
        "Réservez une séance pour en profiter.",
        "/dashboard/parent",
    )
    return True


def history(student_id: int, limit: int = 100) -> list[CreditEntry]:
    stmt = (
        select(CreditEntry)
        .where(CreditEntry.student_id == student_id)
        .order_by(CreditEntry.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


# -- staff and parents ---------------------------------------------------------------------

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
    amount = _check_amount(amount)
    lock_student(student_id)
    _draw(student_id, amount, EntryKind.ADJUST, actor_id, note=reason)
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
    amount = _credits(amount, Decimal(1), Decimal(20), "Demandez entre 1 et 20 crédits.")
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
    notifications.notify_role_members(
        [Role.ADMIN, Role.ASSISTANTE],
        "CREDIT_REQUEST",
        "Nouvelle demande de crédits",
        f"{_fmt(amount)} crédit(s) demandés.",
        "/dashboard/assistante/credits",
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
            "/dashboard/parent",
        )
    audit.record(f"credits.request_{target.value.lower()}", actor_id, row, after={"amount": str(row.amount)})
    return row


def pending_requests() -> list[CreditRequest]:
    stmt = (
        select(CreditRequest).where(CreditRequest.status == RequestStatus.PENDING).order_by(CreditRequest.id)
    )
    return list(db.session.scalars(stmt))
