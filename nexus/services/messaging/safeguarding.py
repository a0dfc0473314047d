"""Safeguarding of minors: reporting a message to the staff, staff reading threads, the audit.

- Any participant of a thread may report one of its messages, once (MessageReport is unique per
  message and person); every active staff member gets a bell notice and the thread shows
  "Signalé" in the inbox until each report is marked handled.
- Staff read any thread about a student or addressed to the centre (access.visible_thread). Each
  time a staff member who is not a party to the thread reads it, it is audited, at most one line
  per staff member, thread and day (Tunis): enough to answer "who read this child's messages,
  when", without a line per page refresh or per poll of new messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import joinedload

from nexus import fr, links, policy
from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.identity import User
from nexus.models.messaging import Message, MessageReport, MessageThread, ThreadParticipant
from nexus.services import ServiceError, audit, claim, command, notifications, utcnow
from nexus.services.messaging import access
from nexus.services.paging import Page, paginate

REPORT_KIND = "message_report"
STAFF_READ = "messages.staff_read"
REASON_MIN, REASON_MAX = 5, 500
REPORT_FILTERS = {"a-traiter": "À traiter", "traites": "Traités", "tous": "Tous"}


@dataclass(frozen=True)
class Reported:
    report: MessageReport
    created: bool  # False: this person had already reported this message


def reportable(user: User, message_id: int) -> Message | None:
    """The message if this user takes part in its thread (a party or a reading staff member)."""
    message = db.session.get(Message, message_id)
    if message is None or access.visible_thread(user, message.thread_id) is None:
        return None
    if access.participant(user.id, message.thread_id) is None and not policy.is_staff(user):
        return None
    return message


def _clean_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if len(text) < REASON_MIN:
        raise ServiceError("Indiquez la raison du signalement (5 caractères au moins).", field="reason")
    if len(text) > REASON_MAX:
        raise ServiceError(f"La raison dépasse {REASON_MAX} caractères : raccourcissez-la.", field="reason")
    return text


@command
def report(reporter: User, message_id: int, reason: str | None) -> Reported | None:
    """Report a message to the staff, once per person; None if the message is not theirs to see."""
    message = reportable(reporter, message_id)
    if message is None:
        return None
    text = _clean_reason(reason)
    report_id = db.session.scalar(
        insert(MessageReport)
        .values(message_id=message.id, reporter_id=reporter.id, reason=text)
        .on_conflict_do_nothing(constraint="uq_message_reports_once")
        .returning(MessageReport.id)
    )
    if report_id is None:
        existing = db.session.scalar(
            select(MessageReport).where(
                MessageReport.message_id == message.id, MessageReport.reporter_id == reporter.id
            )
        )
        assert existing is not None
        return Reported(existing, created=False)
    row = db.session.get_one(MessageReport, report_id)
    thread = db.session.get_one(MessageThread, message.thread_id)
    audit.record("messages.reported", reporter.id, row, after={"reason": text, "thread_id": thread.id})
    notifications.notify_staff(
        REPORT_KIND,
        f"Message signalé : {thread.subject}"[:160],
        f"{access.display_name(reporter)} : {text}"[:1000],
        links.internal("inbox.reports"),
    )
    return Reported(row, created=True)


@dataclass(frozen=True)
class ReportHandled:
    report: MessageReport
    changed: bool  # False: someone had already marked it handled


@command
def handle_report(report_id: int, actor: User) -> ReportHandled | None:
    """Mark a report handled once (conditional UPDATE); None if there is no such report."""
    now = utcnow()
    row, changed = claim(
        MessageReport, report_id, MessageReport.handled_at.is_(None), handled_at=now, handled_by_id=actor.id
    )
    if row is None:
        return None
    if changed:
        audit.record(
            "messages.report_handled",
            actor.id,
            row,
            before={"handled_at": None},
            after={"handled_at": now.isoformat()},
        )
    return ReportHandled(row, changed)


@dataclass(frozen=True)
class ReportRow:
    report: MessageReport
    message: Message
    thread: MessageThread
    reporter: str
    author: str


def list_reports(filter_key: str, number: int) -> Page[ReportRow]:
    """Reports newest first, open ones ("a-traiter"), handled ones or all."""
    stmt = select(MessageReport).order_by(MessageReport.id.desc())
    if filter_key == "a-traiter":
        stmt = stmt.where(MessageReport.handled_at.is_(None))
    elif filter_key == "traites":
        stmt = stmt.where(MessageReport.handled_at.is_not(None))
    page = paginate(stmt, number)
    return Page(_rows(page.items), page.number, page.per_page, page.total)


def _rows(reports: list[MessageReport]) -> list[ReportRow]:
    """Each report with its message, thread and the names shown (three queries in all)."""
    messages = {
        m.id: m
        for m in db.session.scalars(
            select(Message)
            .where(Message.id.in_({r.message_id for r in reports}))
            .options(joinedload(Message.thread))
        )
    }
    people = {
        u.id: u for u in _users({r.reporter_id for r in reports} | {m.author_id for m in messages.values()})
    }
    rows = []
    for r in reports:
        message = messages[r.message_id]
        rows.append(
            ReportRow(
                r,
                message,
                message.thread,
                access.display_name(people.get(r.reporter_id or 0)),
                access.display_name(people.get(message.author_id or 0)),
            )
        )
    return rows


def get_report(report_id: int) -> ReportRow | None:
    row = db.session.get(MessageReport, report_id)
    return _rows([row])[0] if row is not None else None


def _users(ids: set[int | None]) -> list[User]:
    wanted = {i for i in ids if i}
    if not wanted:
        return []
    return list(
        db.session.scalars(select(User).where(User.id.in_(wanted)).options(joinedload(User.coach_profile)))
    )


def open_reports_count() -> int:
    return db.session.scalar(select(func.count()).where(MessageReport.handled_at.is_(None))) or 0


def reported_threads(thread_ids: list[int]) -> dict[int, int]:
    """Open reports per thread, for the inbox's "Signalé" mark (one query)."""
    if not thread_ids:
        return {}
    stmt = (
        select(Message.thread_id, func.count())
        .join(MessageReport, MessageReport.message_id == Message.id)
        .where(Message.thread_id.in_(thread_ids), MessageReport.handled_at.is_(None))
        .group_by(Message.thread_id)
    )
    return {row[0]: row[1] for row in db.session.execute(stmt)}


def reported_messages(reporter_id: int, thread_id: int) -> set[int]:
    """The messages of a thread this person already reported (their "Signalé" mark)."""
    stmt = (
        select(MessageReport.message_id)
        .join(Message, Message.id == MessageReport.message_id)
        .where(Message.thread_id == thread_id, MessageReport.reporter_id == reporter_id)
    )
    return set(db.session.scalars(stmt))


# -- staff reading -------------------------------------------------------------------------------


def _day_start(now: datetime) -> datetime:
    """Midnight in Tunis today, as an aware datetime."""
    return datetime.combine(fr.local_today(now), time.min, tzinfo=fr.TUNIS)


def record_staff_read(user: User, thread: MessageThread) -> bool:
    """Audit a staff member's read of a thread they are not a party of, once a day; whether a
    line was written. Runs in the caller's command (the read marker's)."""
    if not policy.is_staff(user):
        return False
    me = access.participant(user.id, thread.id)
    if me is not None and not me.observer:
        return False
    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"staff-read:{user.id}:{thread.id}"))))
    now = utcnow()
    seen = db.session.scalar(
        select(AuditLog.id)
        .where(
            AuditLog.action == STAFF_READ,
            AuditLog.actor_id == user.id,
            AuditLog.object_type == MessageThread.__tablename__,
            AuditLog.object_id == thread.id,
            AuditLog.created_at >= _day_start(now),
        )
        .limit(1)
    )
    if seen is not None:
        return False
    audit.record(STAFF_READ, user.id, thread, after={"student_id": thread.student_id})
    return True


@command
def staff_read(user: User, thread_id: int) -> bool:
    """record_staff_read as its own transaction (a view showing a thread to staff)."""
    thread = access.visible_thread(user, thread_id)
    return thread is not None and record_staff_read(user, thread)


def is_observer_or_outsider(user_id: int, thread_id: int) -> bool:
    """Whether the user reads this thread without being a party to it."""
    me = db.session.get(ThreadParticipant, (thread_id, user_id))
    return me is None or me.observer
