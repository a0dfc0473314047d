"""The next step of a parent and of a student."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import url_for
from sqlalchemy import select

from nexus import fr
from nexus.extensions import db
from nexus.models.assessments import Assessment, TestStatus
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.scheduling import SessionBooking, SessionReport
from nexus.services import billing, credits, dashboards, family, identity, utcnow
from nexus.services.assessments import taking
from nexus.services.dashboards import progress as home_progress
from nexus.services.next_steps.step import Step, first_name
from nexus.services.progress import trajectory

NEW_REPORT_DAYS = 14  # a report older than this is no longer "new"


# ---- parent ----


def parent(user: User) -> Step | None:
    kids = family.children(user)
    if not kids:
        return Step(
            "add_child",
            "Ajoutez votre enfant",
            "Ajoutez chaque enfant que vous souhaitez inscrire : un compte élève est créé pour lui, "
            "et vous pourrez ensuite choisir son offre.",
            "Ajouter un enfant",
            url_for("parent.children", _anchor="ajouter"),
        )
    ids = [k.id for k in kids]
    return (
        _offer_step(kids, ids)
        or _activation_step(kids)
        or _report_step(ids)
        or _test_step(kids)
        or _booking_step(kids, ids)
        or _trajectory_step_for_parent(kids)
    )


def _offer_step(kids: list[Student], ids: list[int]) -> Step | None:
    """A child with no plan, no credits and no transfer waiting for validation."""
    subscribed = billing.active_subscriptions_of(ids)
    balances = credits.balances(ids)
    paying = {p.student_id for p in dashboards.pending_payments(ids)}  # the home lists them (memo)
    for kid in kids:
        if kid.id not in subscribed and kid.id not in paying and not balances.get(kid.id):
            name = first_name("votre enfant", kid)
            return Step(
                "choose_offer",
                f"Choisissez une offre pour {name}",
                f"{name} n'a pas encore d'abonnement : choisissez la formule qui lui convient pour "
                "réserver ses premières séances.",
                "Choisir une offre",
                url_for("parent.offers", _anchor=f"enfant-{kid.id}"),
            )
    return None


def _activation_step(kids: list[Student]) -> Step | None:
    """A child whose account is not activated and who has no valid link yet."""
    inactive = [k for k in kids if k.user.activated_at is None]
    pending = identity.pending_activation_links([k.user_id for k in inactive])
    waiting = [k for k in inactive if k.user_id not in pending]
    if not waiting:
        return None
    name = first_name("votre enfant", waiting[0])
    return Step(
        "send_activation",
        f"Envoyez son lien à {name}",
        f"Le compte élève de {name} n'est pas encore activé : envoyez-lui le lien pour choisir "
        "son mot de passe.",
        "Envoyer le lien d'activation",
        url_for("dashboard.parent", _anchor=f"enfant-{waiting[0].id}"),
    )


def _report_step(ids: list[int]) -> Step | None:
    """The newest session report the family has not opened yet."""
    since = utcnow() - timedelta(days=NEW_REPORT_DAYS)
    booking = db.session.scalar(
        select(SessionBooking)
        .join(SessionReport, SessionReport.booking_id == SessionBooking.id)
        .where(
            SessionBooking.student_id.in_(ids),
            SessionReport.family_read_at.is_(None),
            SessionReport.created_at >= since,
        )
        .order_by(SessionReport.created_at.desc())
        .limit(1)
    )
    if booking is None:
        return None
    name = first_name("votre enfant", booking.student)
    return Step(
        "read_report",
        f"Lisez le compte rendu de {name}",
        f"{booking.coach.pseudonym} a écrit le compte rendu de la séance de {booking.subject.label.lower()} "
        f"du {fr.short_date(booking.starts_at)} : ce qui a été travaillé et ce qu'il conseille.",
        "Lire le compte rendu",
        url_for("sessions.detail", booking_id=booking.id),
    )


def _tested(ids: list[int]) -> set[int]:
    """The students among these who have a completed or an open positioning test."""
    stmt = select(Assessment.student_id).where(
        Assessment.student_id.in_(ids),
        Assessment.status.in_([TestStatus.COMPLETED, TestStatus.ASSIGNED, TestStatus.IN_PROGRESS]),
    )
    return set(db.session.scalars(stmt))


def _test_step(kids: list[Student]) -> Step | None:
    """An activated child of a tested grade who has never taken the positioning test."""
    eligible = [k for k in kids if k.grade in taking.GRADES and k.user.activated_at is not None]
    tested = _tested([k.id for k in eligible])
    untested = [k for k in eligible if k.id not in tested]
    if not untested:
        return None
    name = first_name("votre enfant", untested[0])
    return Step(
        "take_test",
        f"{name} peut passer son test de positionnement",
        f"Une vingtaine de questions, depuis son espace élève : le test mesure le niveau de {name} "
        "et guide son coach pour fixer sa trajectoire.",
        "Voir les tests de positionnement",
        url_for("positioning.parent_index"),
    )


def _booking_step(kids: list[Student], ids: list[int]) -> Step | None:
    """A session coming within a week, else a child with credits and nothing booked."""
    upcoming = dashboards.next_sessions(ids)  # each child's next, as the cards show it (memo)
    soonest = min(upcoming.values(), key=lambda b: (b.starts_at, b.id), default=None)
    if soonest is not None and soonest.starts_at <= utcnow() + timedelta(days=7):
        b = soonest
        return Step(
            "upcoming_session",
            f"Séance de {b.student.user.first_name} le {fr.when(b.starts_at)}",
            f"{b.subject.label} avec {b.coach.pseudonym}. Le lien de la visioconférence et les "
            "détails sont sur la page de la séance.",
            "Voir la séance",
            url_for("sessions.detail", booking_id=b.id),
        )
    booked = set(upcoming)
    balances = credits.balances(ids)
    for kid in kids:
        if kid.id not in booked and balances.get(kid.id, 0) > 0:
            name = first_name("votre enfant", kid)
            return Step(
                "book",
                f"Réservez une séance pour {name}",
                f"{name} a {fr.credits(balances[kid.id])} et aucune séance prévue : choisissez un "
                "coach et un créneau.",
                "Réserver une séance",
                url_for("sessions.parent_book", eleve=kid.id),
            )
    return None


def _trajectory_step_for_parent(kids: list[Student]) -> Step | None:
    lives = home_progress.live_trajectories([k.id for k in kids])  # the home's (memo), else one query
    for kid in kids:
        live = lives.get(kid.id)
        if live is not None:
            return _trajectory_step(live, url_for("trajectories.child", student_id=kid.id), kid)
    return None


def _trajectory_step(live: Any, url: str, student: Student | None = None) -> Step:
    done = trajectory.progress(live)
    who = f" de {student.user.first_name}" if student else ""
    text = f"{fr.plural(done.done, 'étape atteinte', 'étapes atteintes')} sur {done.total}."
    if done.next is not None:
        text += f" Prochaine étape — {done.next.title}."
    return Step("trajectory", f"Suivez la trajectoire{who} : {live.title}", text, "Voir la trajectoire", url)


# ---- student ----


def student(user: User) -> Step | None:
    student = family.student_of(user)
    if student is None:
        return None
    tests = dashboards.tests_of(student.id)  # newest first, cancelled left out; the home's (memo)
    open_test = next((t for t in tests if t.is_open), None)
    if open_test is not None:
        return Step(
            "resume_test",
            "Ton test de positionnement t'attend",
            f"« {open_test.title} » : une question à la fois, à ton rythme. Tu peux t'arrêter et reprendre.",
            "Reprendre le test" if open_test.status is TestStatus.IN_PROGRESS else "Commencer le test",
            url_for("positioning.take", test_id=open_test.id),
        )
    if student.grade in taking.GRADES and not any(t.is_completed for t in tests):
        return Step(
            "take_test",
            "Passe ton test de positionnement",
            "Une vingtaine de questions en mathématiques ou en NSI : il mesure ton niveau et aide ton "
            "coach à fixer tes objectifs.",
            "Passer le test",
            url_for("positioning.mine"),
        )
    upcoming = dashboards.upcoming_of(student.id)[:1]  # the home lists them (memo)
    if upcoming:
        b = upcoming[0]
        return Step(
            "prepare_session",
            f"Prépare ta séance de {b.subject.label.lower()}",
            f"Le {fr.when(b.starts_at)} avec {b.coach.pseudonym} : relis le dernier compte rendu "
            "et note tes questions.",
            "Voir la séance",
            url_for("sessions.detail", booking_id=b.id),
        )
    balance = credits.balances([student.id])[student.id]
    if balance > 0:
        return Step(
            "book",
            "Réserve ta prochaine séance",
            f"Tu as {fr.credits(balance)} et aucune séance prévue : choisis un coach et un créneau.",
            "Réserver une séance",
            url_for("sessions.eleve_book"),
        )
    live = home_progress.live_trajectories([student.id]).get(student.id)  # the home's (memo)
    if live is not None:
        return _trajectory_step(live, url_for("trajectories.mine"))
    return Step(
        "explore",
        "Travaille tes priorités",
        "Tes résultats de test montrent les chapitres à reprendre en premier : revois-les, et pose tes "
        "questions à ARIA ou à ton coach.",
        "Mes tests de positionnement",
        url_for("positioning.mine"),
    )
