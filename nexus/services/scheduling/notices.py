"""Who is told what about a session: in-app notifications and e-mails (queued in the outbox,
sent after commit), for a booking, a cancellation, a move, a report, a no-show and a reminder.
"""

from __future__ import annotations

from decimal import Decimal

from nexus import fr, links
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.models.scheduling import ReminderKind, SessionBooking, SessionReport
from nexus.services import notifications, preferences
from nexus.services.scheduling import video
from nexus.services.scheduling.slots import minutes_of


def session_link(booking: SessionBooking) -> str:
    """The session's page, the link of every notice and e-mail (and, made absolute, of the .ics)."""
    return links.internal("sessions.detail", booking_id=booking.id)


def family_users(booking: SessionBooking) -> list[User]:
    """The student (if they have an address) and their parents."""
    users = [booking.student.user, *booking.student.parent.guardians]
    return [u for u in users if u.email and u.is_active]


def _others(booking: SessionBooking, actor: User) -> list[User]:
    """Everyone concerned except the actor: coach, student, parent."""
    people = [booking.coach.user, *family_users(booking)]
    return [u for u in people if u.id != actor.id]


def email_context(booking: SessionBooking, first_name: str) -> dict[str, str]:
    return {
        "first_name": first_name,
        "subject_label": booking.subject.label,
        "coach": booking.coach.pseudonym,
        "student": booking.student.user.first_name,
        "when": fr.when(booking.starts_at),
        "duration": fr.duration(minutes_of(booking)),
        "service": booking.service.label,
        "location": booking.location or "",
        "online": "1" if video.has_room(booking) else "",
        "cost": fr.number(booking.credits_cost),
        "link": session_link(booking),
    }


def _mail(
    user: User,
    template: str,
    subject: str,
    booking: SessionBooking,
    key: str,
    event: str = preferences.SESSIONS,
    **extra: str,
) -> None:
    if not user.email:
        return
    context: dict[str, object] = {**email_context(booking, user.first_name), **extra}
    notifications.queue_email(
        user.email, template, subject, context, user_id=user.id, dedupe_key=key[:120], event=event
    )


def _audience(user: User) -> str:
    return "coach" if user.role is Role.COACH else "family"


def booked(booking: SessionBooking, actor: User) -> None:
    """The coach is told (in-app and e-mail); the family gets a confirmation with the .ics."""
    link = session_link(booking)
    when = fr.when(booking.starts_at)
    coach_user = booking.coach.user
    student_name = booking.student.user.full_name
    notifications.notify(
        coach_user.id, "SESSION_BOOKED", f"Nouvelle séance : {student_name}", f"{when}.", link
    )
    _mail(
        coach_user,
        "session_booked",
        f"Nouvelle séance le {when}",
        booking,
        f"booked:{booking.id}:{coach_user.id}",
        audience="coach",
        ics_booking_id=str(booking.id),
    )
    for user in family_users(booking):
        _mail(
            user,
            "session_booked",
            f"Séance confirmée le {when}",
            booking,
            f"booked:{booking.id}:{user.id}",
            audience="family",
            ics_booking_id=str(booking.id),
        )
        if user.id != actor.id:
            notifications.notify(
                user.id, "SESSION_BOOKED", f"Séance réservée avec {booking.coach.pseudonym}", f"{when}.", link
            )


def cancelled(booking: SessionBooking, actor: User, refunded: Decimal, reason: str | None = None) -> None:
    """Everyone else concerned is told, in-app and by e-mail, with the reason given (if any)."""
    when = fr.when(booking.starts_at)
    who = booking.coach.pseudonym if actor.role is Role.COACH else actor.first_name
    refund_note = "Crédits non rendus."
    if refunded:
        refund_note = f"{fr.plural(refunded, 'crédit rendu', 'crédits rendus')}."
    reason = (reason or booking.cancel_reason or "").strip()
    said = f" Motif : {reason}" + ("" if reason.endswith((".", "!", "?", "…")) else ".") if reason else ""
    for user in _others(booking, actor):
        notifications.notify(
            user.id,
            "SESSION_CANCELLED",
            f"Séance du {when} annulée",
            f"Annulée par {who}.{said} {refund_note}",
            session_link(booking),
        )
        _mail(
            user,
            "session_cancelled",
            f"Séance du {when} annulée",
            booking,
            f"cancelled:{booking.id}:{user.id}",
            by=who,
            reason=reason,
            refund_note=refund_note,
        )


def rescheduled(old: SessionBooking, new: SessionBooking, actor: User) -> None:
    before, after = fr.when(old.starts_at), fr.when(new.starts_at)
    for user in [new.coach.user, *family_users(new)]:
        if user.id != actor.id:
            notifications.notify(
                user.id,
                "SESSION_RESCHEDULED",
                "Séance déplacée",
                f"Du {before} au {after}.",
                session_link(new),
            )
        _mail(
            user,
            "session_booked",
            f"Séance déplacée au {after}",
            new,
            f"booked:{new.id}:{user.id}",
            audience=_audience(user),
            moved_from=before,
            ics_booking_id=str(new.id),
        )


def reported(booking: SessionBooking, report: SessionReport) -> None:
    """The family is told in-app; each active parent receives the report by e-mail."""
    link = session_link(booking)
    student = booking.student.user
    title = f"Compte rendu de la séance de {booking.subject.label}"
    for user in family_users(booking):
        notifications.notify(user.id, "SESSION_REPORT", title, f"Par {booking.coach.pseudonym}.", link)
    for parent in booking.student.parent.guardians:
        if not parent.is_active:
            continue
        _mail(
            parent,
            "session_report",
            f"{title} de {student.first_name}",
            booking,
            f"report:{booking.id}" + ("" if parent.id == booking.student.parent.user_id else f":{parent.id}"),
            preferences.REPORTS,
            summary=report.summary,
            topics=report.topics,
            rating=str(report.rating),
            progress_notes=report.progress_notes,
            recommendations=report.recommendations,
            attended="oui" if report.attended else "non",
            homework=report.homework or "",
            next_focus=report.next_focus or "",
        )


def no_show(booking: SessionBooking) -> None:
    when = fr.when(booking.starts_at)
    for user in family_users(booking):
        notifications.notify(
            user.id,
            "SESSION_NO_SHOW",
            f"Absence à la séance du {when}",
            f"{booking.coach.pseudonym} a signalé l'absence de {booking.student.user.first_name}.",
            session_link(booking),
        )


def reminder(booking: SessionBooking, kind: ReminderKind) -> None:
    """The reminder, in-app and by e-mail, to the coach, the student and the parents."""
    when = fr.when(booking.starts_at)
    label = "demain" if kind is ReminderKind.DAY_BEFORE else "dans 2 heures"
    for user in [booking.coach.user, *family_users(booking)]:
        notifications.notify(
            user.id,
            "SESSION_REMINDER",
            f"Rappel : séance {label}",
            f"{booking.subject.label}, {when}.",
            session_link(booking),
        )
        _mail(
            user,
            "session_reminder",
            f"Rappel : séance de {booking.subject.label} {label}",
            booking,
            f"reminder:{booking.id}:{kind.value}:{user.id}",
            audience=_audience(user),
            label=label,
        )
