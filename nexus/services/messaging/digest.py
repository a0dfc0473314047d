"""E-mail digests: at most one e-mail per thread and person an hour, listing what they have not read.

`send` claims the participant's row with one conditional UPDATE … RETURNING on emailed_at, so of
many workers (the job after a message, the periodic sweep, a retry) exactly one writes the
e-mail. Never to the author of the messages, never to someone who said no to these e-mails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select, update

from nexus import fr, links
from nexus.extensions import db
from nexus.models.identity import User
from nexus.models.messaging import Message, MessageThread, ThreadParticipant
from nexus.services import command, notifications, preferences, utcnow
from nexus.services.messaging.access import display_name
from nexus.services.messaging.threads import excerpt

EVERY = timedelta(hours=1)
EVENT = preferences.MESSAGES
LISTED = 10  # messages quoted in one e-mail; the rest are counted
TEMPLATE = "message_digest"


def _new_for_reader() -> object:
    """A message by someone else that the participant has neither read nor been e-mailed about."""
    return exists().where(
        Message.thread_id == ThreadParticipant.thread_id,
        or_(Message.author_id.is_(None), Message.author_id != ThreadParticipant.user_id),
        or_(ThreadParticipant.last_read_at.is_(None), Message.created_at > ThreadParticipant.last_read_at),
        or_(ThreadParticipant.emailed_at.is_(None), Message.created_at > ThreadParticipant.emailed_at),
    )


def _may_email(now: datetime) -> object:
    return and_(
        ThreadParticipant.observer.is_(False),
        or_(ThreadParticipant.emailed_at.is_(None), ThreadParticipant.emailed_at <= now - EVERY),
        _new_for_reader(),
    )


def due(limit: int = 500, thread_id: int | None = None) -> list[tuple[int, int]]:
    """(thread, person) pairs an e-mail is due to now."""
    stmt = (
        select(ThreadParticipant.thread_id, ThreadParticipant.user_id)
        .join(User, User.id == ThreadParticipant.user_id)
        .where(_may_email(utcnow()), User.is_active, User.email.is_not(None))
        .order_by(ThreadParticipant.thread_id, ThreadParticipant.user_id)
        .limit(limit)
    )
    if thread_id is not None:
        stmt = stmt.where(ThreadParticipant.thread_id == thread_id)
    return [(t, u) for t, u in db.session.execute(stmt)]


@command
def send(thread_id: int, user_id: int) -> bool:
    """Queue the digest of one thread for one person if it is due; whether this call did."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not user.email or not preferences.wants_email(user_id, EVENT):
        return False
    now = utcnow()
    claimed = db.session.execute(
        update(ThreadParticipant)
        .where(
            ThreadParticipant.thread_id == thread_id, ThreadParticipant.user_id == user_id, _may_email(now)
        )
        .values(emailed_at=now)
        .returning(ThreadParticipant.last_read_at)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:  # not due, or another worker took it
        return False
    since = claimed.last_read_at
    stmt = select(Message).where(
        Message.thread_id == thread_id, or_(Message.author_id.is_(None), Message.author_id != user_id)
    )
    if since is not None:
        stmt = stmt.where(Message.created_at > since)
    unread = list(db.session.scalars(stmt.order_by(Message.id)))
    thread = db.session.get(MessageThread, thread_id)
    if not unread or thread is None:
        return False
    authors = {
        m.author_id: display_name(db.session.get(User, m.author_id) if m.author_id else None) for m in unread
    }
    shown = unread[-LISTED:]
    notifications.queue_email(
        user.email,
        TEMPLATE,
        f"{fr.plural(len(unread), 'nouveau message', 'nouveaux messages')} : {thread.subject}",
        {
            "first_name": user.first_name,
            "thread_subject": thread.subject,
            "count": len(unread),
            "hidden": len(unread) - len(shown),
            "messages": [
                {"author": authors[m.author_id], "when": fr.date_time(m.created_at), "text": excerpt(m.body)}
                for m in shown
            ],
            "link": links.internal("messages.thread", thread_id=thread_id),
        },
        user_id=user_id,
        dedupe_key=f"messages:{thread_id}:{user_id}:{now:%Y%m%d%H%M%S%f}",
        event=EVENT,
    )
    return True
