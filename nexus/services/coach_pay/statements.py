"""Monthly statements: the draft recomputed from the sessions of its month (its adjustments
kept), staff's signed adjustments with their reason, and validation, after which the statement
is frozen and numbered REM-YYYYMM-####.

Every change locks the statement row (SELECT … FOR UPDATE, re-read under the lock), so a refresh,
an adjustment and a validation arriving together run one after the other; the draft itself is
created by INSERT … ON CONFLICT DO NOTHING against the (coach, month) unique constraint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, union
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import joinedload, selectinload

from nexus import fr, policy
from nexus.extensions import db
from nexus.models.coach_pay import (
    CoachRate,
    CoachStatement,
    LineKind,
    StatementLine,
    StatementSequence,
    StatementStatus,
)
from nexus.models.common import Role
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking
from nexus.models.workshops import Workshop
from nexus.services import ServiceError, audit, command, locked, notifications, utcnow
from nexus.services.coach_pay import months
from nexus.services.coach_pay.compute import Computation, MissingRate, compute
from nexus.services.coach_pay.settings import pay_settings
from nexus.text import check_line, check_size

FROZEN = "Ce relevé est validé : il ne change plus."
CHANGED = "Le relevé a changé depuis votre lecture : relisez-le."
STAFF_ONLY = "Seule l'équipe gère les relevés de rémunération."
MAX_ADJUSTMENT = 10_000_000  # 10,000 TND either way
REASON_MAX = 500
NOTICE_KIND = "COACH_PAY"


def coach_link(statement: CoachStatement) -> str:
    """Where the coach reads the statement (the stable URL of the contract)."""
    return f"/dashboard/coach/remuneration/{statement.id}"


def _require_staff(actor: User | None) -> None:
    if actor is None or not policy.is_staff(actor):
        raise ServiceError(STAFF_ONLY)


def _open(coach_id: int, month: str, now: datetime) -> CoachStatement:
    """The coach's statement of the month, created as an empty draft if absent, locked."""
    settings = pay_settings()
    db.session.execute(
        insert(CoachStatement)
        .values(
            coach_id=coach_id,
            month=month,
            status=StatementStatus.DRAFT,
            total_millimes=0,
            pay_no_show=settings.pay_no_show,
            late_cancel_share=settings.late_cancel_share,
            computed_at=now,
        )
        .on_conflict_do_nothing(constraint="uq_coach_statements_month")
    )
    statement_id = db.session.scalar(
        select(CoachStatement.id).where(CoachStatement.coach_id == coach_id, CoachStatement.month == month)
    )
    statement = locked(CoachStatement, statement_id)
    assert statement is not None  # just inserted or found; statements are never deleted
    return statement


def _lock(statement_id: int) -> CoachStatement:
    statement = locked(CoachStatement, statement_id)
    if statement is None:
        raise LookupError(statement_id)  # the page answers 404
    return statement


def _sum(statement_id: int) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(StatementLine.amount_millimes), 0)).where(
            StatementLine.statement_id == statement_id
        )
    )
    return int(total or 0)


def _recompute(statement: CoachStatement, now: datetime) -> Computation:
    """Replace the computed lines of a locked draft (its adjustments kept, after them), take the
    settings in force, and set the total to the sum of the lines."""
    settings = pay_settings()
    result = compute(statement.coach_id, statement.month, settings, now)
    db.session.execute(
        delete(StatementLine).where(
            StatementLine.statement_id == statement.id, StatementLine.kind != LineKind.ADJUSTMENT
        )
    )
    for position, line in enumerate(result.lines, start=1):
        db.session.add(
            StatementLine(
                statement_id=statement.id,
                position=position,
                kind=line.kind,
                booking_id=line.booking_id,
                workshop_id=line.workshop_id,
                occurred_at=line.occurred_at,
                label=line.label,
                minutes=line.minutes,
                rate_millimes=line.rate_millimes,
                share_percent=line.share_percent,
                amount_millimes=line.amount_millimes,
            )
        )
    adjustments = db.session.scalars(
        select(StatementLine)
        .where(StatementLine.statement_id == statement.id, StatementLine.kind == LineKind.ADJUSTMENT)
        .order_by(StatementLine.position, StatementLine.id)
    ).all()
    for position, line in enumerate(adjustments, start=len(result.lines) + 1):
        line.position = position
    db.session.flush()
    statement.total_millimes = _sum(statement.id)
    statement.pay_no_show = settings.pay_no_show
    statement.late_cancel_share = settings.late_cancel_share
    statement.computed_at = now
    db.session.flush()
    db.session.expire(statement, ["lines"])
    return result


def _may_refresh(actor: User | None, coach_id: int) -> None:
    """Staff, a job (no actor), or the coach for their own draft."""
    if actor is None or policy.is_staff(actor):
        return
    own = actor.role is Role.COACH and actor.coach_profile is not None and actor.coach_profile.id == coach_id
    if not own:
        raise ServiceError(STAFF_ONLY)


@command
def refresh(actor: User | None, coach_id: int, month: str, *, now: datetime | None = None) -> CoachStatement:
    """The coach's draft of the month, created if absent and recomputed from the sessions (its
    adjustments kept). A validated statement is refused: it never changes again."""
    now = now or utcnow()
    month = months.parse_month(month)
    _may_refresh(actor, coach_id)
    if db.session.get(CoachProfile, coach_id) is None:
        raise LookupError(coach_id)
    statement = _open(coach_id, month, now)
    if statement.status.is_validated:
        raise ServiceError(FROZEN)
    _recompute(statement, now)
    return statement


def _active_coaches(month: str) -> list[int]:
    """Coaches with a session or a workshop in the month, a rate in force by its end, or a
    statement already."""
    start, end = months.bounds(month)
    ids = union(
        select(SessionBooking.coach_id).where(
            SessionBooking.workshop_id.is_(None),
            SessionBooking.starts_at >= start,
            SessionBooking.starts_at < end,
        ),
        select(Workshop.coach_id).where(Workshop.starts_at >= start, Workshop.starts_at < end),
        select(CoachRate.coach_id).where(CoachRate.effective_from <= months.last_day(month)),
        select(CoachStatement.coach_id).where(CoachStatement.month == month),
    ).subquery()
    return sorted(db.session.scalars(select(ids.c.coach_id)))


@command
def refresh_month(actor: User | None, month: str, *, now: datetime | None = None) -> list[CoachStatement]:
    """Every active coach's draft of the month, created or recomputed (staff, or None: the
    periodic job); validated statements are left as they are. The drafts, by coach."""
    if actor is not None:
        _require_staff(actor)
    now = now or utcnow()
    month = months.parse_month(month)
    drafts = []
    for coach_id in _active_coaches(month):  # locked in id order: two runs at once never deadlock
        statement = _open(coach_id, month, now)
        if statement.status.is_validated:
            continue
        _recompute(statement, now)
        drafts.append(statement)
    return drafts


def _check_adjustment(amount_millimes: int, reason: str | None) -> str:
    if isinstance(amount_millimes, bool) or not isinstance(amount_millimes, int) or amount_millimes == 0:
        raise ServiceError("Indiquez un montant différent de zéro, par exemple -5,000 ou 12,500.", "amount")
    if abs(amount_millimes) > MAX_ADJUSTMENT:
        raise ServiceError("Un ajustement de 10 000 TND au plus : vérifiez le montant.", "amount")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Indiquez le motif de l'ajustement.", "reason")
    check_line(reason, "reason")
    check_size(reason, "reason", REASON_MAX)
    return reason


@command
def adjust(
    actor: User, statement_id: int, amount_millimes: int, reason: str, *, now: datetime | None = None
) -> StatementLine:
    """Add a signed amount with its reason to a draft (staff only, audited); the total follows."""
    _require_staff(actor)
    reason = _check_adjustment(amount_millimes, reason)
    statement = _lock(statement_id)
    if statement.status.is_validated:
        raise ServiceError(FROZEN)
    before = statement.total_millimes
    last = db.session.scalar(
        select(func.coalesce(func.max(StatementLine.position), 0)).where(
            StatementLine.statement_id == statement.id
        )
    )
    line = StatementLine(
        statement_id=statement.id,
        position=int(last or 0) + 1,
        kind=LineKind.ADJUSTMENT,
        occurred_at=now or utcnow(),
        label=f"Ajustement : {reason}"[:200],
        minutes=0,
        rate_millimes=0,
        share_percent=100,
        amount_millimes=amount_millimes,
        reason=reason,
        created_by_id=actor.id,
    )
    db.session.add(line)
    db.session.flush()
    statement.total_millimes = _sum(statement.id)
    db.session.expire(statement, ["lines"])
    audit.record(
        "coach_pay.adjusted",
        actor.id,
        statement,
        before={"total_millimes": before},
        after={
            "amount_millimes": amount_millimes,
            "reason": reason,
            "total_millimes": statement.total_millimes,
        },
    )
    return line


def _next_number(month: str) -> str:
    key = months.sequence_key(month)
    current = db.session.scalar(
        insert(StatementSequence)
        .values(year_month=key, current=1)
        .on_conflict_do_update(index_elements=["year_month"], set_={"current": StatementSequence.current + 1})
        .returning(StatementSequence.current)
    )
    return f"REM-{key}-{current:04d}"


def _missing_message(missing: list[MissingRate]) -> str:
    message = missing[0].message
    if len(missing) > 1:
        message += f" ({fr.plural(len(missing) - 1, 'autre tarif manque', 'autres tarifs manquent')} aussi.)"
    return message


def validate(
    actor: User, statement_id: int, expected_total: int | None = None, *, now: datetime | None = None
) -> CoachStatement:
    """Recompute the draft one last time, then freeze and number it (staff only, audited; the
    coach is told). Refused when a rate it needs is missing, or when its total is no longer the
    one the staff member read (`expected_total`): the recomputed lines are kept then, so the page
    read again shows them."""
    outcome = _validate(actor, statement_id, expected_total, now or utcnow())
    if isinstance(outcome, str):
        raise ServiceError(outcome)
    return outcome


@command
def _validate(
    actor: User, statement_id: int, expected_total: int | None, now: datetime
) -> CoachStatement | str:
    _require_staff(actor)
    statement = _lock(statement_id)
    if statement.status.is_validated:
        raise ServiceError(f"Ce relevé est déjà validé (n° {statement.number}).")
    result = _recompute(statement, now)
    if result.missing:
        return _missing_message(result.missing)
    if expected_total is not None and expected_total != statement.total_millimes:
        return CHANGED
    statement.number = _next_number(statement.month)
    statement.status = StatementStatus.VALIDATED
    statement.validated_at = now
    statement.validated_by_id = actor.id
    db.session.flush()
    details: dict[str, Any] = {"number": statement.number, "month": statement.month}
    audit.record(
        "coach_pay.validated",
        actor.id,
        statement,
        before={"status": StatementStatus.DRAFT.value},
        after={
            "status": StatementStatus.VALIDATED.value,
            **details,
            "total_millimes": statement.total_millimes,
        },
    )
    coach = db.session.get(CoachProfile, statement.coach_id)
    assert coach is not None
    notifications.notify(
        coach.user_id,
        NOTICE_KIND,
        f"Relevé de rémunération de {months.month_label(statement.month)} validé",
        f"N° {statement.number} — total {fr.tnd(statement.total_millimes)}.",
        coach_link(statement),
    )
    return statement


def _loaded() -> Any:
    return select(CoachStatement).options(
        joinedload(CoachStatement.coach).joinedload(CoachProfile.user), selectinload(CoachStatement.lines)
    )


def statement_for(user: User, statement_id: int) -> CoachStatement | None:
    """The statement if the user may read it: staff any, a coach their own; else None (→ 404)."""
    statement = db.session.scalar(_loaded().where(CoachStatement.id == statement_id))
    if statement is None or policy.is_staff(user):
        return statement
    profile = user.coach_profile if user.role is Role.COACH else None
    return statement if profile is not None and statement.coach_id == profile.id else None


def statements_of_month(month: str) -> list[CoachStatement]:
    """Every coach's statement of the month, by coach pseudonym."""
    month = months.parse_month(month)
    stmt = _loaded().join(CoachStatement.coach).where(CoachStatement.month == month)
    return list(db.session.scalars(stmt.order_by(CoachProfile.pseudonym, CoachStatement.id)).unique())


def statements_of_coach(coach: CoachProfile, *, validated_only: bool = False) -> list[CoachStatement]:
    """The coach's statements, newest month first (only the validated ones if asked)."""
    stmt = _loaded().where(CoachStatement.coach_id == coach.id)
    if validated_only:
        stmt = stmt.where(CoachStatement.status == StatementStatus.VALIDATED)
    return list(db.session.scalars(stmt.order_by(CoachStatement.month.desc())).unique())


def missing_rates(statement: CoachStatement, *, now: datetime | None = None) -> list[MissingRate]:
    """The rates a draft still lacks (validation refuses until they are set); none once validated."""
    if statement.status.is_validated:
        return []
    return compute(statement.coach_id, statement.month, pay_settings(), now or utcnow()).missing
