"""Group workshops on real PostgreSQL: creation (weekly series), the coach's time blocked both
ways, a seat with credits, the student's overlap, the 48-hour rule, the waiting list and its
promotion, the staff's cancellation, and what someone else cannot reach. The races are in
test_workshop_races.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from nexus import fr
from nexus.extensions import db
from nexus.jobs.mail import attachments, build_message
from nexus.models.audit import AuditLog
from nexus.models.catalog import ServiceType
from nexus.models.common import Grade, Subject
from nexus.models.notifications import Notification
from nexus.models.scheduling import SessionReminder, SessionStatus
from nexus.models.workshops import WaitStatus, Workshop, WorkshopStatus
from nexus.services import ServiceError, credits, scheduling, utcnow, workshops
from nexus.services.scheduling import BookingChoice, video
from nexus.services.scheduling.slots import free_slots
from tests import factories
from tests.helpers import outbox_to, user
from tests.integration.scheduling_support import free_slot
from tests.integration.workshop_support import (
    balance,
    consumed,
    entries,
    local_start,
    pupil,
    seats_held,
    staff,
    workshop,
    workshop_input,
)
from tests.people import HELIOS, PARENT, PARENT2, ZENON

# -- creation ----------------------------------------------------------------------------------


def test_staff_create_a_weekly_series_at_the_same_local_time():
    start = local_start(days=7, at="15:00")
    created = workshops.create(staff(), workshop_input(starts_at=start, minutes=90, weeks=3, online=False))

    assert len(created) == 3
    assert [w.starts_at.astimezone(fr.TUNIS) for w in created] == [
        start + timedelta(weeks=n) for n in range(3)
    ]
    assert all(w.ends_at - w.starts_at == timedelta(minutes=90) for w in created)
    assert {w.series_id for w in created} == {created[0].id}
    assert all(w.credits_cost == Decimal("2.25") for w in created)  # 1.5 per hour
    assert all(w.location == scheduling.booking.CENTRE_LOCATION for w in created)
    assert all(w.status is WorkshopStatus.SCHEDULED for w in created)
    assert len({w.room_name for w in created}) == 3
    audits = db.session.scalar(select(func.count()).where(AuditLog.action == "workshop.created"))
    assert audits == 3


def test_a_single_workshop_has_no_series_and_costs_by_the_hour():
    (one,) = workshops.create(staff(), workshop_input(minutes=60))
    assert one.series_id is None and one.credits_cost == Decimal("1.50") and one.location is None


def test_the_coach_creates_for_their_own_subjects_only():
    helios = user(HELIOS)
    (own,) = workshops.create(helios, workshop_input(subject=Subject.NSI))
    assert own.created_by_id == helios.id
    with pytest.raises(ServiceError, match="n'enseigne pas"):
        workshops.create(helios, workshop_input(subject=Subject.ANGLAIS, starts_at=local_start(8)))
    with pytest.raises(ServiceError, match="que pour vous-même"):
        workshops.create(user(ZENON), workshop_input(starts_at=local_start(9)))
    with pytest.raises(ServiceError):
        workshops.create(user(PARENT), workshop_input(starts_at=local_start(10)))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seats": 1}, "places"),
        ({"seats": 13}, "places"),
        ({"minutes": 20}, "duree"),
        ({"minutes": 250}, "duree"),
        ({"minutes": 50}, "duree"),
        ({"weeks": 0}, "semaines"),
        ({"weeks": 13}, "semaines"),
        ({"title": "  "}, "titre"),
        ({"starts_at": "soon"}, "debut"),
        ({"starts_at": "far"}, "debut"),
    ],
)
def test_creation_refuses_bad_input_in_french(change, field):
    if change.get("starts_at") == "soon":
        change = {"starts_at": utcnow() + timedelta(hours=1)}
    elif change.get("starts_at") == "far":
        change = {"starts_at": local_start(days=100)}
    before = db.session.scalar(select(func.count()).select_from(Workshop))
    with pytest.raises(ServiceError) as refused:
        workshops.create(staff(), workshop_input(**change))
    assert refused.value.field == field
    assert db.session.scalar(select(func.count()).select_from(Workshop)) == before


def test_two_workshops_of_one_coach_cannot_overlap():
    workshop(starts_at=local_start(7, "15:00"))
    with pytest.raises(ServiceError, match="a déjà une séance ou un atelier le lundi 11 mars 2030"):
        workshop(starts_at=local_start(7, "15:30"))


# -- the coach's time, both ways ---------------------------------------------------------------


def test_a_workshop_refuses_over_a_one_to_one_session_naming_the_date():
    sami = factories.student("sami@nexus-reussite.tn")
    helios = factories.coach("Hélios")
    slot = free_slot(helios, days_ahead=8)
    choice = BookingChoice(helios, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, slot.starts_at)
    scheduling.book(sami.user, sami, choice)
    first = slot.starts_at - timedelta(weeks=1)  # the series' second sitting hits the session
    before = db.session.scalar(select(func.count()).select_from(Workshop))

    with pytest.raises(ServiceError) as refused:
        workshops.create(staff(), workshop_input(starts_at=first, weeks=2))

    assert fr.when(slot.starts_at) in refused.value.message
    assert db.session.scalar(select(func.count()).select_from(Workshop)) == before  # all or none


def test_the_slots_no_longer_offer_a_one_to_one_session_over_a_workshop():
    helios = factories.coach("Hélios")
    slot = free_slot(helios, days_ahead=5)
    workshop(starts_at=slot.starts_at)

    day = slot.local_start.date()
    offered = [s.starts_at for d in free_slots(helios.id, 60, day, 1) for s in d.slots]
    assert slot.starts_at not in offered
    sami = factories.student("sami@nexus-reussite.tn")
    choice = BookingChoice(helios, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, slot.starts_at)
    with pytest.raises(scheduling.SlotTaken):
        scheduling.book(sami.user, sami, choice)


# -- a seat ------------------------------------------------------------------------------------


def test_a_seat_draws_the_credits_and_joins_the_workshop_room():
    w = workshop(minutes=90)
    lina = pupil("lina.t@example.tn", 5, first="Lina")

    seat = workshops.book_seat(lina.user, lina, w.id)

    assert seat.service is ServiceType.ATELIER_GROUPE and seat.workshop_id == w.id
    assert (seat.starts_at, seat.ends_at, seat.title) == (w.starts_at, w.ends_at, w.title)
    assert consumed(seat.id) == Decimal("2.25") and balance(lina.id) == Decimal("2.75")
    assert video.has_room(seat) and w.room_name in video.join_url(seat)
    assert (
        len(db.session.scalars(select(SessionReminder).where(SessionReminder.booking_id == seat.id)).all())
        == 2
    )
    coach_bell = select(Notification).where(Notification.user_id == user(HELIOS).id)
    assert db.session.scalars(coach_bell).first() is not None
    (card,) = [c for c in workshops.open_for(lina) if c.workshop.id == w.id]
    assert card.booking is not None and card.seats_left == 2 and not card.is_waiting


def test_a_parent_books_for_their_child_but_not_for_another_family():
    w = workshop()
    omar = pupil("omar.t@example.tn", first="Omar")  # Hichem's (PARENT2) family
    assert workshops.book_seat(user(PARENT2), omar, w.id).student_id == omar.id
    ines = pupil("ines.t@example.tn", first="Ines")
    with pytest.raises(LookupError):
        workshops.book_seat(user(PARENT), ines, w.id)


def test_a_seat_is_refused_when_full_twice_off_grade_too_late_or_without_credits():
    w = workshop(seats=2, starts_at=local_start(7))
    a, b, c = (pupil(f"s{n}@example.tn", first=f"S{n}") for n in range(3))
    workshops.book_seat(a.user, a, w.id)
    with pytest.raises(ServiceError, match="déjà une place"):
        workshops.book_seat(a.user, a, w.id)
    workshops.book_seat(b.user, b, w.id)
    with pytest.raises(workshops.WorkshopFull, match="complet : inscrivez-vous sur la liste d'attente"):
        workshops.book_seat(c.user, c, w.id)

    other = workshop(starts_at=local_start(9))
    terminale = pupil("term@example.tn", grade=Grade.TERMINALE)
    with pytest.raises(ServiceError, match="réservé aux élèves de Première"):
        workshops.book_seat(terminale.user, terminale, other.id)
    poor = pupil("poor@example.tn", 1)
    with pytest.raises(credits.InsufficientCredits):
        workshops.book_seat(poor.user, poor, other.id)
    unentitled = pupil("none@example.tn", entitled=False)
    with pytest.raises(ServiceError, match="abonnement"):
        workshops.book_seat(unentitled.user, unentitled, other.id)
    with pytest.raises(ServiceError, match="2 heures"):
        workshops.book_seat(a.user, a, other.id, now=other.starts_at - timedelta(hours=1))
    assert seats_held(other.id) == 0


def test_the_students_own_overlap_is_refused():
    helios = factories.coach("Hélios")
    slot = free_slot(helios, days_ahead=6)
    sami = factories.student("sami@nexus-reussite.tn")
    zenon = factories.coach("Zénon")
    w = workshop(coach=zenon, subject=Subject(zenon.subjects[0]), starts_at=slot.starts_at)
    sami.grade = Grade.PREMIERE
    choice = BookingChoice(helios, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, slot.starts_at)
    scheduling.book(sami.user, sami, choice)
    left = balance(sami.id)

    with pytest.raises(workshops.StudentBusy, match="a déjà une séance pendant cet atelier"):
        workshops.book_seat(sami.user, sami, w.id)
    assert balance(sami.id) == left and seats_held(w.id) == 0


# -- cancelling a seat: the 48-hour rule -------------------------------------------------------


@pytest.mark.parametrize(
    ("before_start", "refunded"),
    [
        (timedelta(days=3), True),
        (timedelta(hours=48, seconds=1), True),
        (timedelta(hours=48), True),
        (timedelta(hours=47, minutes=59, seconds=59), False),
        (timedelta(hours=5), False),
    ],
)
def test_a_seat_cancelled_48_hours_or_more_before_is_refunded(before_start, refunded):
    w = workshop(starts_at=local_start(7))
    lina = pupil("lina.c@example.tn", 3)
    seat = workshops.book_seat(lina.user, lina, w.id)
    now = w.starts_at - before_start

    terms = workshops.seat_terms(seat, lina.user, now)
    done = workshops.cancel_seat(lina.user, seat.id, "Empêchement", now=now)

    assert terms.refund is refunded
    assert done.booking.status is SessionStatus.CANCELLED
    assert done.refunded == (Decimal("1.50") if refunded else 0)
    assert balance(lina.id) == (3 if refunded else Decimal("1.50"))
    assert seats_held(w.id) == 0


def test_another_familys_seat_is_not_found():
    w = workshop()
    omar = pupil("omar.x@example.tn")  # PARENT2's child
    seat = workshops.book_seat(omar.user, omar, w.id)
    with pytest.raises(LookupError):
        workshops.cancel_seat(user(PARENT), seat.id)
    yasmine = factories.student("yasmine@nexus-reussite.tn")
    with pytest.raises(LookupError):
        workshops.cancel_seat(yasmine.user, seat.id)
    assert workshops.visible_workshop(yasmine.user, w.id) is None  # Terminale, no seat
    assert workshops.visible_workshop(user(PARENT2), w.id) is not None
    assert workshops.visible_workshop(user(ZENON), w.id) is None
    assert workshops.visible_workshop(user(HELIOS), w.id) is not None


def test_a_one_to_one_session_is_not_cancelled_as_a_seat():
    sami = factories.student("sami@nexus-reussite.tn")
    helios = factories.coach("Hélios")
    choice = BookingChoice(
        helios, Subject.MATHEMATIQUES, ServiceType.COURS_ONLINE, 60, free_slot(helios).starts_at
    )
    booking = scheduling.book(sami.user, sami, choice)
    with pytest.raises(LookupError):
        workshops.cancel_seat(sami.user, booking.id)


# -- the waiting list and its promotion --------------------------------------------------------


def test_the_waiting_list_only_when_full_once_and_left():
    w = workshop(seats=2)
    a, b, c = (pupil(f"w{n}@example.tn", first=f"W{n}") for n in range(3))
    with pytest.raises(ServiceError, match="Il reste des places"):
        workshops.join_waitlist(c.user, c, w.id)
    workshops.book_seat(a.user, a, w.id)
    workshops.book_seat(b.user, b, w.id)
    workshops.join_waitlist(c.user, c, w.id)
    with pytest.raises(ServiceError, match="déjà sur la liste d'attente"):
        workshops.join_waitlist(c.user, c, w.id)
    with pytest.raises(ServiceError, match="déjà une place"):
        workshops.join_waitlist(a.user, a, w.id)
    (card,) = [x for x in workshops.open_for(c) if x.workshop.id == w.id]
    assert card.waiting_position == 1 and card.is_full
    assert [e.student_id for e in workshops.waitlist(w.id)] == [c.id]

    workshops.leave_waitlist(c.user, c, w.id)
    assert workshops.waitlist(w.id) == [] and entries(w.id)[0].status is WaitStatus.LEFT
    with pytest.raises(ServiceError, match="n'est pas sur la liste"):
        workshops.leave_waitlist(c.user, c, w.id)


@pytest.mark.parametrize("path", ["seat", "session"])
def test_a_freed_seat_skips_one_who_cannot_pay_and_promotes_the_next(path):
    w = workshop(seats=2, starts_at=local_start(7))
    a, b = pupil("pa@example.tn", first="Pa"), pupil("pb@example.tn", first="Pb")
    broke = pupil("pc@example.tn", 1, first="Pc")  # 1 credit: a seat costs 1,5
    next_one = pupil("pd@example.tn", 4, first="Pd")
    workshops.book_seat(a.user, a, w.id)
    workshops.book_seat(b.user, b, w.id)
    workshops.join_waitlist(broke.user, broke, w.id)
    workshops.join_waitlist(next_one.user, next_one, w.id)
    seat = workshops.participants(w.id)[0]
    now = w.starts_at - timedelta(days=3)

    if path == "seat":
        workshops.cancel_seat(seat.student.user, seat.id, now=now)
    else:  # the generic session cancel path is the same one
        scheduling.cancel(seat.student.user, seat.id, now=now)

    skipped, promoted = entries(w.id)
    assert skipped.status is WaitStatus.SKIPPED and skipped.booking_id is None
    assert promoted.status is WaitStatus.PROMOTED and promoted.booking_id is not None
    assert seats_held(w.id) == 2 and balance(next_one.id) == Decimal("2.50") and balance(broke.id) == 1
    assert consumed(promoted.booking_id) == Decimal("1.50")
    for student, kind in ((next_one, "WORKSHOP_PROMOTED"), (broke, "WORKSHOP_SKIPPED")):
        bells = select(Notification).where(Notification.user_id == student.user_id, Notification.kind == kind)
        assert db.session.scalars(bells).first() is not None
    parent_bell = select(Notification).where(
        Notification.user_id == user(PARENT2).id, Notification.kind == "WORKSHOP_PROMOTED"
    )
    assert "Une place s'est libérée" in db.session.scalars(parent_bell).one().title
    (mail,) = [m for m in outbox_to(PARENT2) if m.subject.startswith("Une place")]
    message = build_message(mail)
    assert "Une place s'est libérée" in message.body and "Suites et récurrence" in message.html
    assert any(name.endswith(".ics") for name, *_ in attachments(mail.context))


# -- the staff's cancellation of the whole workshop --------------------------------------------


def test_staff_cancel_the_workshop_refund_everyone_and_close_the_list():
    w = workshop(seats=2, starts_at=local_start(7))
    a, b, c = (pupil(f"x{n}@example.tn", 3, first=f"X{n}") for n in range(3))
    seat_a = workshops.book_seat(a.user, a, w.id)
    workshops.book_seat(b.user, b, w.id)
    workshops.join_waitlist(c.user, c, w.id)
    late = w.starts_at - timedelta(hours=5)  # too late for a family, never for staff

    with pytest.raises(LookupError):
        workshops.cancel_workshop(user(HELIOS), w.id, "Malade", now=late)
    done = workshops.cancel_workshop(staff(), w.id, "Coach malade", now=late)

    assert done.status is WorkshopStatus.CANCELLED and done.cancel_reason == "Coach malade"
    assert seats_held(w.id) == 0 and balance(a.id) == 3 and balance(b.id) == 3
    assert entries(w.id)[0].status is WaitStatus.CLOSED
    pending = select(SessionReminder).where(
        SessionReminder.booking_id == seat_a.id, SessionReminder.cancelled_at.is_(None)
    )
    assert db.session.scalars(pending).all() == []
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "workshop.cancelled")).one()
    assert audit.after["refunded"] == "3.00" and audit.action_label == "Atelier annulé"
    for student in (a, b, c):
        bells = select(Notification).where(
            Notification.user_id == student.user_id, Notification.kind == "SESSION_CANCELLED"
        )
        assert db.session.scalars(bells).first() is not None
    with pytest.raises(ServiceError, match="déjà annulé"):
        workshops.cancel_workshop(staff(), w.id, None, now=late)
    with pytest.raises(ServiceError, match="annulé"):
        workshops.book_seat(c.user, c, w.id)
    # the coach's time is free again
    assert scheduling.slots.busy_intervals(w.coach_id, None, w.starts_at, w.ends_at) == []


def test_lists_count_seats_and_waiting():
    w = workshop(seats=2)
    a, b, c = (pupil(f"l{n}@example.tn", first=f"L{n}") for n in range(3))
    for s in (a, b):
        workshops.book_seat(s.user, s, w.id)
    workshops.join_waitlist(c.user, c, w.id)
    (row,) = [r for r in workshops.staff_list(upcoming=True) if r.workshop.id == w.id]
    assert (row.taken, row.waiting, row.seats_left) == (2, 1, 0)
    assert [r.workshop.id for r in workshops.coach_list(w.coach)] == [w.id]
    assert [s.student.user.first_name for s in workshops.participants(w.id)] == ["L0", "L1"]
    assert [(e.student_id, s.id) for e, s in workshops.waitlist_students(w.id)] == [(c.id, c.id)]


def test_no_seat_with_a_coach_who_left():
    w = workshop()
    lina = pupil("lina.gone@example.tn")
    user(HELIOS).is_active = False
    db.session.commit()
    with pytest.raises(ServiceError, match="ne donne plus cet atelier"):
        workshops.book_seat(lina.user, lina, w.id)
    assert seats_held(w.id) == 0 and balance(lina.id) == 6


def test_a_coach_with_a_workshop_to_come_is_not_deactivated_and_it_counts_once():
    from nexus.services import coaching

    held = workshop()
    for email in ("lina@example.tn", "omar@example.tn"):
        workshops.book_seat(staff(), pupil(email), held.id)
    assert coaching.upcoming_counts([held.coach_id]) == {held.coach_id: 1}
    with pytest.raises(ServiceError, match="1 séance à venir"):
        coaching.set_coach_active(held.coach_id, False, staff())
