"""The next step of a coach, an assistante and an admin."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.models.billing import Payment, PaymentStatus, Subscription, SubscriptionStatus
from nexus.models.common import Role
from nexus.models.credits import CreditRequest, RequestStatus
from nexus.models.diagnostics import Bilan, GenerationStatus
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.notifications import OutboxEmail, OutboxStatus
from nexus.models.scheduling import CoachAvailability, SessionBooking
from nexus.services import scheduling, utcnow
from nexus.services.next_steps.step import Step, count

FAILED_EMAIL_DAYS = 30  # failed e-mails staff are told about


# ---- coach ----


def coach(user: User) -> Step | None:
    profile = scheduling.coach_profile_of(user)
    if profile is None:
        return None
    if not (profile.description and profile.title and profile.subjects):
        return Step(
            "complete_profile",
            "Complétez votre profil",
            "Votre fiche de présentation est incomplète (titre, présentation ou matières) : les "
            "familles la lisent avant de réserver. Écrivez à l'équipe, qui la complète avec vous.",
            "Écrire à l'équipe",
            url_for("messages.index"),
        )
    now = utcnow()
    mine = SessionBooking.coach_id == profile.id
    to_report = select(SessionBooking).where(mine, SessionBooking.is_holding, SessionBooking.starts_at <= now)
    missing = count(select(func.count()).select_from(to_report.subquery()))
    if missing:
        oldest = db.session.scalar(to_report.order_by(SessionBooking.starts_at).limit(1))
        return Step(
            "write_reports",
            "Écrivez vos comptes rendus",
            f"{fr.plural(missing, 'séance attend', 'séances attendent')} "
            f"{'son' if missing == 1 else 'leur'} compte rendu (ou l'absence de l'élève) : les "
            "parents le reçoivent dès qu'il est écrit.",
            "Écrire le compte rendu",
            url_for("coach.report", booking_id=oldest.id),  # type: ignore[union-attr]
        )
    tomorrow = fr.local_today(now) + timedelta(days=1)
    today = [
        b
        for b in db.session.scalars(
            select(SessionBooking).where(mine, SessionBooking.is_holding, SessionBooking.starts_at > now)
        )
        if fr.local_today(b.starts_at) < tomorrow
    ]
    if today:
        return Step(
            "today_sessions",
            f"{fr.plural(len(today), 'séance', 'séances')} aujourd'hui",
            f"La prochaine à {fr.hm(today[0].starts_at)} avec {today[0].student.user.first_name}.",
            "Voir mes séances",
            url_for("coach.sessions"),
        )
    windows = count(select(func.count()).where(CoachAvailability.coach_id == profile.id))
    if not windows:
        return Step(
            "set_availability",
            "Indiquez vos disponibilités",
            "Sans créneau hebdomadaire, les familles ne peuvent pas réserver de séance avec vous.",
            "Saisir mes disponibilités",
            url_for("coach.availability_page"),
        )
    return Step(
        "all_good",
        "Tout est à jour",
        "Comptes rendus écrits, disponibilités saisies : faites le point sur la trajectoire de vos "
        "élèves avant leurs prochaines séances.",
        "Voir mes élèves",
        url_for("coach.students"),
    )


# ---- staff ----


def staff(user: User) -> Step:
    """The desk's waiting work first; else today's sessions of the centre."""
    return _desk() or _today_at_the_centre()


def _today_at_the_centre() -> Step:
    now = utcnow()
    tomorrow = fr.local_today(now) + timedelta(days=1)
    upcoming = db.session.scalars(
        select(SessionBooking.starts_at).where(SessionBooking.is_holding, SessionBooking.starts_at > now)
    )
    today = sum(1 for starts_at in upcoming if fr.local_today(starts_at) < tomorrow)
    title = f"{fr.plural(today, 'séance')} aujourd'hui" if today else "Rien en attente"
    return Step(
        "today_sessions" if today else "all_clear",
        title,
        "Aucun virement, aucune demande de crédits, aucun bilan ni e-mail en échec n'attend l'équipe.",
        "Voir les séances",
        url_for("sessions.staff_sessions"),
    )


def _desk() -> Step | None:
    """What waits for the assistante (and the admin): transfers, requests, failures."""
    transfers = count(select(func.count()).where(Payment.status == PaymentStatus.PENDING))
    if transfers:
        return Step(
            "transfers",
            f"{fr.plural(transfers, 'virement', 'virements')} à valider",
            "Des familles ont déclaré un virement : validez-le dès qu'il apparaît sur le compte, pour "
            "que leurs crédits s'ouvrent.",
            "Voir les paiements",
            url_for("payments.index"),
        )
    requests = count(select(func.count()).where(CreditRequest.status == RequestStatus.PENDING))
    if requests:
        return Step(
            "credit_requests",
            f"{fr.plural(requests, 'demande', 'demandes')} de crédits",
            "Des parents attendent une réponse à leur demande de crédits.",
            "Voir les demandes",
            url_for("credits.desk"),
        )
    failed = count(select(func.count()).where(Bilan.status == GenerationStatus.FAILED))
    if failed:
        return Step(
            "bilans_to_retry",
            f"{fr.plural(failed, 'bilan', 'bilans')} à relancer",
            "La génération de ces bilans a échoué : relancez-la une fois la cause réglée.",
            "Voir les bilans en échec",
            url_for("bilans.staff_table", filtre=GenerationStatus.FAILED.value),
        )
    since = utcnow() - timedelta(days=FAILED_EMAIL_DAYS)
    emails = count(
        select(func.count()).where(OutboxEmail.status == OutboxStatus.FAILED, OutboxEmail.created_at >= since)
    )
    if emails:
        return Step(
            "failed_emails",
            f"{fr.plural(emails, 'e-mail', 'e-mails')} non remis",
            "Après plusieurs essais, ces messages n'ont pas pu être envoyés : vérifiez les adresses et "
            "prévenez les familles concernées.",
            "Voir les e-mails non remis",
            url_for("next_steps.failed_emails"),
        )
    return None


def admin(user: User) -> Step | None:
    desk = _desk()
    if desk is not None:
        return desk
    families = count(select(func.count()).where(User.role == Role.PARENT))
    students = count(select(func.count()).select_from(Student))
    active = count(select(func.count()).where(Subscription.status == SubscriptionStatus.ACTIVE))
    return Step(
        "figures",
        "Les chiffres du centre",
        f"{fr.plural(families, 'compte parent', 'comptes parents')}, "
        f"{fr.plural(students, 'élève')}, {fr.plural(active, 'abonnement actif', 'abonnements actifs')}.",
        "Voir les utilisateurs",
        url_for("admin.users"),
    )


def failed_emails(limit: int = 100) -> list[OutboxEmail]:
    """The e-mails given up on lately, the newest first (staff page)."""
    since = utcnow() - timedelta(days=FAILED_EMAIL_DAYS)
    stmt = (
        select(OutboxEmail)
        .where(OutboxEmail.status == OutboxStatus.FAILED, OutboxEmail.created_at >= since)
        .order_by(OutboxEmail.created_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
