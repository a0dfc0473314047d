"""Demo data of CONTRACT.md. Idempotent: running it again creates only what is missing."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.billing import Payment, PaymentMethod, PaymentStatus, Subscription
from nexus.models.catalog import OfferCode
from nexus.models.common import Grade, Role, Subject
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import CoachAvailability, SessionBooking
from nexus.services import catalog, command, identity, utcnow
from nexus.services.assessments import bank
from nexus.services.billing.fulfilment import start_plan

DEMO_PASSWORD = "nexus-demo-2026"  # noqa: S105 - published demo password (CONTRACT.md)
P = TypeVar("P", ParentProfile, Student, CoachProfile)


def _user(email: str | None, role: Role, first: str, last: str, *, active: bool = True) -> User:
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if user is None and email is None:
        user = db.session.scalar(
            select(User).where(User.email.is_(None), User.first_name == first, User.last_name == last)
        )
    if user is None:
        user = User(email=email, role=role, first_name=first, last_name=last)
        if active:
            user.password_hash = identity.hash_password(DEMO_PASSWORD)
            user.activated_at = utcnow()
        db.session.add(user)
        db.session.flush()
    return user


def _profile(model: type[P], user: User, **fields: Any) -> P:
    """The user's row of `model` (a parent, student or coach profile), created if missing."""
    row = db.session.scalar(select(model).where(model.user_id == user.id))
    if row is None:
        row = model(user_id=user.id, **fields)
        db.session.add(row)
        db.session.flush()
    return row


def _parent(email: str, first: str, last: str, city: str) -> ParentProfile:
    return _profile(ParentProfile, _user(email, Role.PARENT, first, last), city=city, country="Tunisie")


def _student(
    parent: ParentProfile, email: str | None, first: str, last: str, grade: Grade, *, active: bool
) -> Student:
    user = _user(email, Role.ELEVE, first, last, active=active)
    return _profile(Student, user, parent_id=parent.id, grade=grade, school="Lycée Pilote de Tunis")


def _coach(
    email: str, first: str, last: str, pseudonym: str, subjects: list[Subject], **extra: str
) -> CoachProfile:
    user = _user(email, Role.COACH, first, last)
    return _profile(CoachProfile, user, pseudonym=pseudonym, subjects=[s.value for s in subjects], **extra)


def _weekly(coach: CoachProfile, days: range | list[int], start: time, end: time) -> None:
    exists = db.session.scalar(select(CoachAvailability.id).where(CoachAvailability.coach_id == coach.id))
    if exists:
        return
    for weekday in days:
        db.session.add(
            CoachAvailability(
                coach_id=coach.id, weekday=weekday, start_time=start, end_time=end, valid_from=date.today()
            )
        )


def _paid_plan(student: Student, payer: User, subject: Subject, reference: str = "NX-DEMO-0001") -> None:
    """A paid HYBRIDE plan (Sami's), granted as the payment approval grants it, with its invoice."""
    if db.session.scalar(select(Subscription.id).where(Subscription.student_id == student.id)):
        _demo_invoice(payer, reference)  # a database seeded before the plan had its invoice gets it now
        return
    offer = catalog.offer(OfferCode.HYBRIDE)
    now = utcnow()
    payment = Payment(
        payer_id=payer.id,
        student_id=student.id,
        offer_code=offer.code,
        aria_subject=subject.value,
        amount_millimes=offer.price_millimes,
        method=PaymentMethod.BANK_TRANSFER,
        status=PaymentStatus.COMPLETED,
        reference=reference,
        declared_at=now - timedelta(days=2),
        processed_at=now - timedelta(days=1),
    )
    db.session.add(payment)
    db.session.flush()
    start_plan(payment, offer, [subject.value])
    _demo_invoice(payer, reference)


def _demo_invoice(payer: User, reference: str = "NX-DEMO-0001") -> None:
    """The PAID invoice of a demo payment (Sami's in Hichem's space), unless it has one."""
    from nexus.models.billing import Invoice
    from nexus.services import invoices

    payment = db.session.scalar(
        select(Payment).where(Payment.reference == reference, Payment.payer_id == payer.id)
    )
    if payment is None:
        return
    if db.session.scalar(select(Invoice.id).where(Invoice.payment_id == payment.id)) is None:
        invoices.for_payment(payment, None)


def seed_demo() -> None:
    _seed_people()
    _seed_corpus()
    bank.sync_bank()
    if _wants_history():
        _seed_history()


def _wants_history() -> bool:
    """The demo history is for people looking at the app (`make run`, `make seed`); a test run,
    the browser tests' server included, starts from the accounts alone and builds what it checks
    (SEED_DEMO_HISTORY in the config decides when set)."""
    under_tests = current_app.testing or "PYTEST_CURRENT_TEST" in os.environ
    return bool(current_app.config.get("SEED_DEMO_HISTORY", not under_tests))


# Sami's past sessions with Hélios: (days ago, rating or None for a no-show, report read by the
# family). A shaky start, then regular and better rated: the index rises; the last report is new.
SAMI_HISTORY = ((50, 2, True), (43, None, False), (36, 3, True), (22, 4, True), (8, 5, False))
# Days ago at which Sami's index is also stored (after his first session; then today's) for a chart.
SAMI_INDEX_DAYS = (49, 35, 21, 7)


def _seed_history() -> None:
    """Something for the family to read on a fresh `make run`: five past sessions of Sami with
    Hélios (four reports, one no-show), a finished maths test, the trajectory Hélios proposed from
    it (agreed with the family, its first milestone done), then every index and badges.

    Not in the test suite's demo data (tests build the history they check): its baseline stays
    the accounts alone.
    """
    from nexus.services import progress

    sami = db.session.scalar(
        select(Student).join(User, User.id == Student.user_id).where(User.email == "sami@nexus-reussite.tn")
    )
    if sami is None:
        return
    if db.session.scalar(select(SessionBooking.id).where(SessionBooking.student_id == sami.id).limit(1)):
        return  # already seeded (or Sami's own sessions): never add it twice
    _past_sessions(sami)
    _finished_test(sami)
    _trajectory(sami)
    _classmates()
    _coach_rates()
    now = utcnow()
    for days in SAMI_INDEX_DAYS:  # the index as it stood then: a chart of several points
        progress.index.compute(sami.id, "seed", at=now - timedelta(days=days))
    for student_id in list(db.session.scalars(select(Student.id).order_by(Student.id))):
        progress.index.compute(student_id, "seed")
        progress.badges.award_due(student_id)


# Sami's classmates in Première, on the HYBRIDE plan: four students to fill a 3-seat workshop.
CLASSMATES = (
    ("parent3@nexus-reussite.tn", "Mounir", "Jaziri", "Sousse", (("lina", "Lina"), ("omar", "Omar"))),
    ("parent4@nexus-reussite.tn", "Rim", "Chaabane", "Bizerte", (("ines", "Ines"),)),
)
# Hourly pay (millimes) of the demo coaches: online, at the centre, workshop.
COACH_RATES = {
    "helios@nexus-reussite.tn": (30_000, 35_000, 45_000),
    "zenon@nexus-reussite.tn": (28_000, 32_000, 40_000),
}


def _classmates() -> None:
    """Two more families whose three Première students have credits (the workshops demo)."""
    number = 2
    for email, first, last, city, children in CLASSMATES:
        family = _parent(email, first, last, city)
        for login, name in children:
            child = _student(family, f"{login}@nexus-reussite.tn", name, last, Grade.PREMIERE, active=True)
            _paid_plan(child, family.user, Subject.MATHEMATIQUES, f"NX-DEMO-{number:04d}")
            number += 1


def _coach_rates() -> None:
    """The demo coaches' rates, from the first of last month (so last month's statement computes)."""
    from nexus import fr
    from nexus.models.coach_pay import CoachRate, PayModality

    day = (fr.local_today().replace(day=1) - timedelta(days=1)).replace(day=1)
    for email, rates in COACH_RATES.items():
        coach = db.session.scalar(select(CoachProfile).join(User).where(User.email == email))
        for modality, hourly in zip(PayModality, rates, strict=True):
            row = CoachRate(coach_id=coach.id, modality=modality, hourly_millimes=hourly, effective_from=day)
            db.session.add(row)


def _trajectory(sami: Student) -> None:
    """Hélios's proposal from Sami's test, as a coach would save it, with its first step done."""
    from nexus.services.progress import trajectory

    helios = db.session.scalar(select(User).where(User.email == "helios@nexus-reussite.tn"))
    draft = trajectory.proposal(sami.id).draft
    draft.agreed = True
    saved = trajectory.create(helios, sami.id, draft)
    if saved.milestones:
        trajectory.tick(helios, saved.milestones[0].id)


@command
def _past_sessions(sami: Student) -> None:
    from nexus import fr
    from nexus.models.catalog import ServiceType
    from nexus.models.scheduling import SessionReport, SessionStatus

    helios = db.session.scalar(select(CoachProfile).where(CoachProfile.pseudonym == "Hélios"))
    topics = ("Suites arithmétiques", "", "Second degré", "Dérivation", "Probabilités conditionnelles")
    for (days, rating, read), topic in zip(SAMI_HISTORY, topics, strict=True):
        day = fr.local_today() - timedelta(days=days)
        day -= timedelta(days=max(0, day.weekday() - 4))  # a weekday, as Hélios works
        starts = datetime.combine(day, time(17, 0), fr.TUNIS).astimezone(UTC)
        booking = SessionBooking(
            student_id=sami.id,
            coach_id=helios.id,
            subject=Subject.MATHEMATIQUES,
            service=ServiceType.COURS_ONLINE,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            credits_cost=Decimal(1),
            status=SessionStatus.COMPLETED if rating else SessionStatus.NO_SHOW,
            room_name=f"nexus-{secrets.token_urlsafe(12)}",
            completed_at=starts + timedelta(hours=1),
        )
        db.session.add(booking)
        db.session.flush()
        if rating is None:
            continue
        db.session.add(
            SessionReport(
                booking_id=booking.id,
                summary=f"{topic} : cours repris pas à pas, puis exercices d'application.",
                topics=topic,
                rating=rating,
                progress_notes="Sami gagne en méthode et rédige plus clairement.",
                recommendations="Refaire les exercices corrigés avant la prochaine séance.",
                attended=True,
                created_at=starts + timedelta(hours=2),
                family_read_at=starts + timedelta(hours=20) if read else None,
            )
        )


def _finished_test(sami: Student) -> None:
    """Sami's maths test, taken to the end as a student would: he knows the easier items."""
    from nexus.services.assessments import taking

    test = taking.start_test(sami, Subject.MATHEMATIQUES)
    taking.begin(test.id)
    for _ in range(100):  # the engine stops by itself long before
        item = test.current_item
        if not test.is_open or item is None:
            break
        choice = item.answer if item.difficulty < 0.4 else (item.answer + 1) % 4
        test, _ = taking.answer(test.id, item.id, choice)


@command
def _seed_people() -> None:
    """The accounts, families, coaches' weeks and a paid plan: one transaction."""
    from nexus.services import centre_settings

    centre_settings.ensure_row()  # the invoices' issuer (a truncated test database lost it)
    _user("admin@nexus-reussite.tn", Role.ADMIN, "Amira", "Ben Salah")
    _user("assistante@nexus-reussite.tn", Role.ASSISTANTE, "Leïla", "Trabelsi")
    helios = _coach(
        "helios@nexus-reussite.tn",
        "Karim",
        "Haddad",
        "Hélios",
        [Subject.MATHEMATIQUES, Subject.NSI],
        title="Professeur agrégé de mathématiques",
        tag="Maths & NSI",
        description="Quinze ans de préparation au bac, de l'analyse aux algorithmes.",
        philosophy="Comprendre avant d'appliquer : chaque méthode a une raison d'être.",
    )
    zenon = _coach(
        "zenon@nexus-reussite.tn",
        "Sonia",
        "Mansour",
        "Zénon",
        [Subject.FRANCAIS, Subject.PHILOSOPHIE],
        title="Professeure certifiée de lettres",
        tag="Français & Philo",
        description="L'écrit et l'oral du bac de français, la dissertation de philosophie.",
        philosophy="Bien penser, c'est d'abord bien lire.",
    )
    _weekly(helios, range(0, 5), time(14, 0), time(19, 0))
    _weekly(zenon, [2, 5], time(9, 0), time(13, 0))

    family = _parent("parent@nexus-reussite.tn", "Nadia", "Ben Ali", "Tunis")
    _student(family, "yasmine@nexus-reussite.tn", "Yasmine", "Ben Ali", Grade.TERMINALE, active=True)
    _student(family, None, "Adam", "Ben Ali", Grade.SECONDE, active=False)

    family2 = _parent("parent2@nexus-reussite.tn", "Hichem", "Gharbi", "Sfax")
    sami = _student(family2, "sami@nexus-reussite.tn", "Sami", "Gharbi", Grade.PREMIERE, active=True)
    _paid_plan(sami, family2.user, Subject.MATHEMATIQUES)
    _stage()


def _stage() -> None:
    """One coming holiday stage, published (its dates follow the day the demo is seeded)."""
    from nexus import fr
    from nexus.models.stages import Stage

    if db.session.scalar(select(Stage.id).where(Stage.slug == "stage-intensif-terminale")) is None:
        starts = fr.local_today() + timedelta(days=42)
        starts += timedelta(days=-starts.weekday() % 7)  # a Monday: five mornings, Monday to Friday
        description = "Cinq matinées pour consolider les mathématiques et la NSI avant le bac."
        db.session.add(
            Stage(
                slug="stage-intensif-terminale",
                title="Stage intensif — Terminale",
                description=description,
                starts_on=starts,
                ends_on=starts + timedelta(days=4),
                grade=Grade.TERMINALE,
                subjects=[Subject.MATHEMATIQUES.value, Subject.NSI.value],
                price_millimes=catalog.tnd(450),
                seats=12,
                published=True,
            )
        )


def _seed_corpus() -> None:
    """ARIA's French course material (idempotent; the corpus ships its vectors, so it is quick)."""
    from nexus.services import knowledge

    knowledge.seed_corpus()
