"""Who is told what about a workshop: a seat given from the waiting list, a turn skipped, the
whole workshop cancelled. In-app notices and e-mails (outbox, sent after commit), to the student
and their parents, and to the coach."""

from __future__ import annotations

from decimal import Decimal

from nexus import fr
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.scheduling import SessionBooking
from nexus.models.workshops import Workshop
from nexus.services import notifications, preferences
from nexus.services.scheduling.notices import session_link

TEMPLATE = "workshop_notice"


def family_of(student: Student) -> list[User]:
    """The student and their parents, those who can be told."""
    users = [student.user, *student.parent.guardians]
    return [u for u in users if u.is_active]


def workshop_link(workshop: Workshop, student: Student, user: User) -> str:
    """The workshop's page in the family's space (the contract's stable URLs)."""
    if user.id == student.user_id:
        return f"/dashboard/eleve/ateliers/{workshop.id}"
    return f"/dashboard/parent/ateliers/{workshop.id}?eleve={student.id}"


def _tell(
    user: User, workshop: Workshop, kind: str, title: str, body: str, link: str, key: str, **extra: str
) -> None:
    """The bell, and the e-mail unless the user chose not to get session e-mails."""
    notifications.notify(user.id, kind, title, body, link)
    if not user.email:
        return
    context = {
        **extra,
        "first_name": user.first_name,
        "title": title,
        "body": body,
        "workshop": workshop.title,
        "when": fr.when(workshop.starts_at),
        "link": link,
    }
    notifications.queue_email(
        user.email,
        TEMPLATE,
        title,
        context,
        user_id=user.id,
        dedupe_key=key[:120],
        event=preferences.SESSIONS,
    )


def promoted(booking: SessionBooking) -> None:
    """The family: a seat was freed and is theirs, credits drawn. The coach: one more participant."""
    workshop = booking.workshop
    assert workshop is not None
    student = booking.student
    name = student.user.first_name
    title = f"Une place s'est libérée : {name} participe à l'atelier « {workshop.title} »"
    body = (
        f"{fr.when(workshop.starts_at)}. {fr.credits(booking.credits_cost).capitalize()} "
        f"{'ont été débités' if booking.credits_cost >= 2 else 'a été débité'}."
    )
    for user in family_of(student):
        _tell(
            user,
            workshop,
            "WORKSHOP_PROMOTED",
            title,
            body,
            session_link(booking),
            f"ws-promoted:{booking.id}:{user.id}",
            ics_booking_id=str(booking.id),  # the seat in the family's calendar, as for a booking
        )
    notifications.notify(
        workshop.coach.user_id,
        "SESSION_BOOKED",
        f"Atelier « {workshop.title} » : {student.user.full_name} inscrit",
        f"{fr.when(workshop.starts_at)} (place libérée, liste d'attente).",
        session_link(booking),
    )


def skipped(workshop: Workshop, student: Student, why: str) -> None:
    """The family: a seat was freed, but it could not be theirs (and why); they leave the list."""
    name = student.user.first_name
    title = f"Atelier « {workshop.title} » : la place libérée n'a pas pu revenir à {name}"
    body = f"{why} {name} sort de la liste d'attente ; la place est proposée au suivant."
    for user in family_of(student):
        link = workshop_link(workshop, student, user)
        _tell(
            user,
            workshop,
            "WORKSHOP_SKIPPED",
            title,
            body,
            link,
            f"ws-skipped:{workshop.id}:{student.id}:{user.id}",
        )


def cancelled(
    workshop: Workshop,
    seats: list[tuple[SessionBooking, Decimal]],
    waiting: list[Student],
    reason: str | None,
) -> None:
    """Everyone with a seat (refund said), everyone waiting, and the coach."""
    when = fr.when(workshop.starts_at)
    title = f"Atelier « {workshop.title} » du {when} annulé"
    said = f" Motif : {reason}" if reason else ""
    for booking, refunded in seats:
        refund = f" {fr.plural(refunded, 'crédit rendu', 'crédits rendus')}." if refunded else ""
        body = f"L'équipe a annulé l'atelier.{said}{refund}"
        for user in family_of(booking.student):
            _tell(
                user,
                workshop,
                "SESSION_CANCELLED",
                title,
                body,
                session_link(booking),
                f"ws-cancelled:{booking.id}:{user.id}",
            )
    for student in waiting:
        body = f"L'équipe a annulé l'atelier ; la liste d'attente est close.{said}"
        for user in family_of(student):
            link = workshop_link(workshop, student, user)
            _tell(
                user,
                workshop,
                "SESSION_CANCELLED",
                title,
                body,
                link,
                f"ws-cancelled:{workshop.id}:w{student.id}:{user.id}",
            )
    coach = workshop.coach.user
    _tell(
        coach,
        workshop,
        "SESSION_CANCELLED",
        title,
        f"L'équipe a annulé l'atelier ({len(seats)} participant(s) remboursé(s)).{said}",
        f"/dashboard/coach/ateliers/{workshop.id}",
        f"ws-cancelled:{workshop.id}:coach",
    )
