"""The staff's follow-up of stage reservations: pending → confirmed → paid (the family's invoice),
or cancelled (the seat freed at once); a seat offered from the waiting list; the table's filters
(its CSV export: nexus/services/exports/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager, selectinload

from nexus.extensions import db
from nexus.models.billing import Invoice, InvoiceStatus, PaymentMethod
from nexus.models.identity import User
from nexus.models.stages import HOLDING, NEXT_STATUSES, ReservationStatus, Stage, StageReservation
from nexus.services import (
    ServiceError,
    audit,
    catalog,
    command,
    invoice_links,
    invoices,
    locked,
    notifications,
    utcnow,
)
from nexus.services.paging import Page, matches, paginate
from nexus.services.stages.offers import held_seats
from nexus.services.stages.reservations import mail_context, send_confirmation

NO_SEAT_FOR_WAITING = "Plus aucune place n'est libre sur ce stage : la réservation reste en liste d'attente."


@dataclass(frozen=True)
class StatusChange:
    reservation: StageReservation
    changed: bool  # False: someone else moved it first


@command
def change_status(
    reservation_id: int, expected: ReservationStatus, target: ReservationStatus, actor: User
) -> StatusChange | None:
    """Move a reservation from expected to target exactly once; None if there is none.

    The stage is locked first (as a reservation does), so a seat offered from the waiting list
    is counted against the same seats; a cancelled seat is free for the next family at once.
    """
    if target not in NEXT_STATUSES[expected]:
        raise ServiceError(f"Une réservation « {expected.label} » ne peut pas passer à « {target.label} ».")
    row = db.session.get(StageReservation, reservation_id)
    if row is None:
        return None
    stage = locked(Stage, row.stage_id)
    row = locked(StageReservation, reservation_id)
    if stage is None or row is None:
        return None
    if row.status is not expected:
        return StatusChange(row, changed=False)
    if target is ReservationStatus.PENDING and held_seats(stage.id) >= stage.seats:
        raise ServiceError(NO_SEAT_FOR_WAITING)
    row.status = target
    db.session.flush()
    audit.record(
        "stage.reservation_status",
        actor.id,
        row,
        before={"status": expected.value},
        after={"status": target.value, "stage_id": stage.id, "reference": row.reference},
    )
    if target is ReservationStatus.PAID:
        row.invoice_id = _paid_invoice(row, stage, actor).id
    if target is ReservationStatus.PENDING:  # a seat offered from the waiting list
        send_confirmation(row, stage)
    elif target is ReservationStatus.CANCELLED:
        notifications.queue_email(
            row.email,
            "stage_cancelled",
            f"{stage.title} : réservation annulée",
            mail_context(row, stage),
        )
    return StatusChange(row, changed=True)


def _paid_invoice(row: StageReservation, stage: Stage, actor: User) -> Invoice:
    """The family's receipt: a PAID invoice of the stage's price, paid by the transfer that
    carried the reservation's reference, its link e-mailed (staff resend it from the invoice)."""
    invoice = invoices.create(
        row.parent_name,
        [
            invoices.Line(
                f"{catalog.stage_offer(stage).name} (élève : {row.student_name})", 1, stage.price_millimes
            )
        ],
        status=InvoiceStatus.PAID,
        actor_id=actor.id,
        customer_email=row.email,
    )
    invoice.payment_method = PaymentMethod.BANK_TRANSFER
    invoice.paid_at = utcnow()
    invoice.paid_amount_millimes = stage.price_millimes
    invoice.payment_reference = row.reference
    invoices.event(invoice, "INVOICE_PAID", actor.id, method=PaymentMethod.BANK_TRANSFER.value)
    invoice_links.send_link(invoice.id, actor)  # the 72-hour link to its PDF, e-mailed to the family
    return invoice


RESERVATION_FILTERS: dict[str, str] = {
    "actives": "Places réservées",
    **{status.value: status.label for status in ReservationStatus},
    "toutes": "Toutes",
}


def reservations_stmt(filter_key: str, stage_id: int | None, query: str) -> Select[Any]:
    """The reservations of the table's filter (the page's rows, and its CSV export's)."""
    stmt = (
        select(StageReservation)
        .join(Stage, StageReservation.stage_id == Stage.id)
        .options(contains_eager(StageReservation.stage), selectinload(StageReservation.assessment))
    )
    if stage_id is not None:
        stmt = stmt.where(StageReservation.stage_id == stage_id)
    if filter_key == "actives":
        stmt = stmt.where(StageReservation.status.in_(HOLDING))
    elif filter_key in ReservationStatus.__members__:
        stmt = stmt.where(StageReservation.status == ReservationStatus(filter_key))
    if query.strip():
        stmt = stmt.where(
            matches(
                query,
                StageReservation.parent_name,
                StageReservation.student_name,
                StageReservation.email,
                StageReservation.phone,
                StageReservation.reference,
            )
        )
    return stmt.order_by(Stage.starts_on.desc(), StageReservation.id.desc())


def list_reservations(
    filter_key: str, stage_id: int | None, query: str, number: int
) -> Page[StageReservation]:
    return paginate(reservations_stmt(filter_key, stage_id, query), number)


def get_reservation(reservation_id: int) -> StageReservation | None:
    return db.session.get(StageReservation, reservation_id)


def pending_count() -> int:
    stmt = select(func.count()).where(StageReservation.status == ReservationStatus.PENDING)
    return db.session.scalar(stmt) or 0
