"""Reservations for a stage: the public form (one per e-mail and stage), the seats that are never
oversold, the waiting list, and what a reservation sends (the e-mail with the positioning test's
link and the transfer details, the staff's notice and Telegram message). Staff follow-up: desk.

Every change to who holds a seat locks the stage row first (SELECT … FOR UPDATE), then counts
the held seats: of 50 families asking for the last seat at once, one gets it and the others are
told it is full and offered the waiting list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from nexus import fr, links
from nexus.extensions import db
from nexus.models.common import Grade
from nexus.models.stages import (
    ReservationStatus,
    Stage,
    StageReservation,
)
from nexus.services import (
    ServiceError,
    billing,
    catalog,
    command,
    locked,
    notifications,
)
from nexus.services.identity import normalize_email
from nexus.services.stages import telegram
from nexus.services.stages.offers import held_seats, is_open

log = logging.getLogger(__name__)

FULL = (
    "Ce stage est complet : toutes les places sont réservées. Vous pouvez vous inscrire sur la "
    "liste d'attente : nous vous écrivons dès qu'une place se libère."
)
CLOSED = "Les réservations de ce stage sont closes : il a déjà commencé."


class StageFull(ServiceError):
    """Every seat is held: the family may join the waiting list instead."""

    def __init__(self) -> None:
        super().__init__(FULL)


@dataclass(frozen=True)
class ReservationDetails:
    """What the family enters on the stage's page."""

    parent_name: str
    student_name: str
    email: str
    phone: str
    grade: Grade


@dataclass(frozen=True)
class Reserved:
    reservation: StageReservation
    created: bool  # False: the same e-mail's reservation, updated


def _reference() -> str:
    """The transfer reference: the billing alphabet (no 0/O, 1/I), "ST-" for a stage."""
    return "ST-" + billing.new_reference().removeprefix("NX-")


def _apply(row: StageReservation, details: ReservationDetails, email: str) -> None:
    row.parent_name = details.parent_name.strip()
    row.student_name = details.student_name.strip()
    row.email = email
    row.phone = details.phone.strip()
    row.grade = details.grade


@command
def reserve(stage_id: int, details: ReservationDetails, *, waiting_list: bool = False) -> Reserved:
    """Reserve a seat, or (waiting_list) a place on the waiting list when the stage is full.

    One reservation per e-mail and stage: a second submit updates the first. LookupError when
    the stage is not open to the public (the view answers 404); StageFull when no seat is left
    and the waiting list was not asked for.
    """
    stage = locked(Stage, stage_id)  # every seat change on this stage waits here, in turn
    if stage is None or not stage.published:
        raise LookupError(stage_id)
    if not is_open(stage):
        raise ServiceError(CLOSED)
    email = normalize_email(details.email)
    row = db.session.scalar(
        select(StageReservation).where(StageReservation.stage_id == stage.id, StageReservation.email == email)
    )
    if row is not None and (row.holds_seat or (row.status is ReservationStatus.WAITING and waiting_list)):
        _apply(row, details, email)  # already holding (or waiting): the details are updated
        return Reserved(row, created=False)
    if held_seats(stage.id) < stage.seats:
        status = ReservationStatus.PENDING
    elif waiting_list:
        status = ReservationStatus.WAITING
    else:
        raise StageFull()
    created = row is None
    if row is None:
        row = StageReservation(stage_id=stage.id, reference=_reference(), status=status)
        db.session.add(row)
    row.status = status
    _apply(row, details, email)
    db.session.flush()
    if status is ReservationStatus.PENDING:
        send_confirmation(row, stage)
    else:
        _waiting(row, stage)
    _tell_staff(row, stage, created)
    return Reserved(row, created)


# -- what a reservation sends ---------------------------------------------------------------


def _positioning_link(row: StageReservation) -> str | None:
    """Start the stage's positioning test for the student (once); its signed link, or None when
    it cannot be offered (a grade without a bank …): the seat is kept all the same."""
    from nexus.services.assessments import taking

    try:
        with db.session.begin_nested():
            if row.assessment is None:
                test = taking.start_participant_test(row.email, row.student_name, row.grade)
                row.assessment_id = test.id
                row.assessment = test
    except ServiceError as err:
        log.info("no positioning test for stage reservation %s: %s", row.id, err.message)
        return None
    except Exception:  # the seat matters more than the test: staff can send it later
        log.exception("positioning test not started for stage reservation %s", row.id)
        return None
    return taking.participant_url(row.assessment)


def mail_context(row: StageReservation, stage: Stage) -> dict[str, Any]:
    offer = catalog.stage_offer(stage)
    return {
        "reservation_id": row.id,
        "parent_name": row.parent_name,
        "student_name": row.student_name,
        "stage_title": stage.title,
        "stage_dates": dates_label(stage),
        "grade": row.grade.label,
        "subjects": stage.subject_labels,
        "amount": offer.price_millimes,
        "reference": row.reference,
        "bank": dict(billing.BANK),
        "stage_url": links.external("stages.stage_page", slug=stage.slug),
    }


def dates_label(stage: Stage) -> str:
    """'du lundi 13 avril au vendredi 17 avril 2030'."""
    if stage.starts_on == stage.ends_on:
        return f"le {fr.day(stage.starts_on)} {stage.starts_on.year}"
    return f"du {fr.day(stage.starts_on)} au {fr.day(stage.ends_on)} {stage.ends_on.year}"


def send_confirmation(row: StageReservation, stage: Stage) -> None:
    """The confirmation: what to pay and how, and the positioning test's link. Sent on each
    move to a held seat (new, again after a cancellation, offered from the waiting list): the
    stage row is locked, so one move sends one e-mail."""
    context = mail_context(row, stage) | {"test_url": _positioning_link(row)}
    notifications.queue_email(
        row.email,
        "stage_reservation",
        f"{stage.title} : réservation reçue — passe ton test de positionnement",
        context,
    )


def _waiting(row: StageReservation, stage: Stage) -> None:
    notifications.queue_email(
        row.email,
        "stage_waiting",
        f"{stage.title} : vous êtes sur la liste d'attente",
        mail_context(row, stage),
    )


def _tell_staff(row: StageReservation, stage: Stage, created: bool) -> None:
    what = "Liste d'attente" if row.status is ReservationStatus.WAITING else "Réservation"
    left = max(stage.seats - held_seats(stage.id), 0)
    notifications.notify_staff(
        "STAGE_RESERVATION",
        f"{what} : {row.student_name} — {stage.title}",
        f"{row.parent_name} · {row.phone} · {fr.plural(left, 'place restante', 'places restantes')}",
        links.internal("stages.reservations", stage=stage.id),
    )
    kind = "Nouvelle réservation" if row.holds_seat else "Inscription sur la liste d'attente"
    again = "" if created else " (nouvel envoi)"
    lines = [
        f"{kind}{again} — {stage.title} ({dates_label(stage)})",
        f"Élève : {row.student_name} ({row.grade.label})",
        f"Parent : {row.parent_name} — {row.phone} — {row.email}",
        f"Statut : {row.status.label} · référence {row.reference}",
        f"Places restantes : {left} sur {stage.seats}",
    ]
    telegram.queue_message("\n".join(lines), reservation_id=row.id)
