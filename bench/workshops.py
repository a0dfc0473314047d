"""Group workshops and coach pay: the student's workshops page, seats per second through HTTP,
the last-seat race, and the coach pay statements at the centre's scale.

Data is added to the bench's database directly (app context, services and bulk inserts): a
bench coach with 30 upcoming Première workshops for Sami's page and his bookings (each cancelled
again two days ahead or more: the credits come back), 50 Terminale students with credits racing
for the last seat of a 2-seat workshop, and last month's sessions of 61 coaches for coach pay.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select

from bench import benchmark
from bench.client import Session
from bench.context import Context
from bench.loadgen import percentile
from bench.report import Table, ms
from bench.scheduling import CONCURRENT_CLIENTS, Poster, concurrent_gets, csrf_of, timed_gets
from nexus import create_app, fr
from nexus.extensions import db
from nexus.models.billing import Entitlement, EntitlementStatus
from nexus.models.catalog import Feature, OfferCode, ServiceType
from nexus.models.coach_pay import CoachRate, PayModality, StatementLine
from nexus.models.common import Grade, Role, Subject
from nexus.models.credits import LotSource
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking, SessionReport, SessionStatus
from nexus.models.workshops import Workshop, WorkshopStatus
from nexus.seed import DEMO_PASSWORD
from nexus.services import coach_pay, credits, utcnow, workshops

SAMI = "sami@nexus-reussite.tn"
STAFF = "assistante@nexus-reussite.tn"
DOMAIN = "ateliers.bench.nexus-reussite.tn"
PAGE = "/dashboard/eleve/ateliers"
SERIES, WEEKS = (3, 4, 5), 10  # three weekly series of 10, first sittings 3, 4 and 5 days ahead
ROUNDS, RACERS = 30, 50
BIG_MONTH, WORKSHOPS_DONE, REFRESH_RUNS, COACHES, SESSIONS = 200, 8, 10, 60, 60
BOOKED, FULL = "Place réservée pour", "Cet atelier est complet"


def app_for(database_url: str) -> Flask:
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench-" + "x" * 40})


def _user(email: str, role: Role, first: str, last: str, password_hash: str | None = None) -> User:
    user = User(email=email, role=role, first_name=first, last_name=last, password_hash=password_hash)
    user.activated_at = utcnow()
    db.session.add(user)
    db.session.flush()
    return user


def _coach(tag: str) -> CoachProfile:
    user = _user(f"coach-{tag}@{DOMAIN}", Role.COACH, "Coach", f"Banc {tag}")
    coach = CoachProfile(user_id=user.id, pseudonym=f"Banc {tag}", subjects=["MATHEMATIQUES"])
    db.session.add(coach)
    db.session.flush()
    return coach


def _pupils(count: int, password_hash: str) -> list[Student]:
    """Terminale students of one bench family, each with CREDITS_USE and 6 credits (as
    tests/factories.entitle does), signing in with the demo password."""
    parent = ParentProfile(user_id=_user(f"parent@{DOMAIN}", Role.PARENT, "Banc", "Ateliers").id)
    db.session.add(parent)
    db.session.flush()
    now, students = utcnow(), []
    for n in range(count):
        user = _user(f"eleve{n}@{DOMAIN}", Role.ELEVE, f"Élève{n}", "Ateliers", password_hash)
        student = Student(user_id=user.id, parent_id=parent.id, grade=Grade.TERMINALE)
        db.session.add(student)
        db.session.flush()
        right = Entitlement(student_id=student.id, feature=Feature.CREDITS_USE, starts_at=now - timedelta(1))
        right.offer_code, right.status = OfferCode.CREDITS_5, EntitlementStatus.ACTIVE
        right.ends_at = now + timedelta(days=60)
        db.session.add(right)
        credits.grant(student.id, Decimal(6), LotSource.MANUAL, now + timedelta(days=60))
        students.append(student)
    db.session.flush()
    return students


def prepare_workshops(app: Flask) -> tuple[list[int], int, list[str]]:
    """30 Première workshops of a bench coach (three weekly series at 18:00 Tunis), and a 2-seat
    Terminale workshop with one seat taken. Their ids, the race's, the racers' e-mails."""

    def plan(coach: CoachProfile, grade: Grade, starts: datetime, seats: int, weeks: int) -> list[int]:
        facts = (Subject.MATHEMATIQUES, grade, "Atelier du banc", "Exercices types.", starts, 60, True)
        data = workshops.WorkshopInput(coach, *facts, seats, weeks)
        return [w.id for w in workshops.create(staff, data)]

    with app.app_context():
        staff = db.session.scalar(select(User).where(User.email == STAFF))
        password_hash = db.session.scalar(select(User.password_hash).where(User.email == SAMI))
        coach = _coach("ateliers")
        students = _pupils(RACERS + 1, password_hash)
        db.session.commit()
        today = fr.local_today(utcnow())

        def local(days: int, hour: int) -> datetime:
            return datetime.combine(today + timedelta(days=days), dtime(hour), fr.TUNIS)

        ids = []
        for days in SERIES:
            ids += plan(coach, Grade.PREMIERE, local(days, 18), 12, WEEKS)
        race = plan(coach, Grade.TERMINALE, local(6, 10), 2, 1)[0]
        first = students[0]
        workshops.book_seat(first.user, first, race)  # one seat left
        return ids, race, [s.user.email for s in students[1:]]


def race_for_seat(ctx: Context, workshop_id: int, emails: list[str]) -> tuple[list[str], float]:
    """Every racer signed in (8 at a time), then all POST reserver at once; each one's flash."""

    def ready(email: str) -> Poster:
        session = Session(ctx.base_url)
        session.sign_in(email, DEMO_PASSWORD)
        return Poster(session, csrf_of(session, f"{PAGE}/{workshop_id}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        posters = list(pool.map(ready, emails))
    barrier = threading.Barrier(len(posters) + 1)
    answers: list[tuple[int, str, float]] = [(0, "", 0.0)] * len(posters)

    def run(index: int) -> None:
        barrier.wait()
        answers[index] = posters[index].post(f"{PAGE}/{workshop_id}/reserver", {})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posters))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    flashes = [p.session.get(location).text for p, (_, location, _) in zip(posters, answers, strict=True)]
    return flashes, wall


def book_and_cancel(poster: Poster, workshop_id: int) -> tuple[float, float]:
    status, location, booking = poster.post(f"{PAGE}/{workshop_id}/reserver", {})
    if status != 303 or BOOKED not in poster.session.get(location).text:
        raise RuntimeError(f"booking workshop {workshop_id} failed: HTTP {status} {location!r}")
    status, location, cancel = poster.post(f"{PAGE}/{workshop_id}/annuler", {"confirm": "1"})
    answer = poster.session.get(location).text
    if status != 303 or "Place annulée (" not in answer or "non rendus" in answer:
        raise RuntimeError(f"cancelling workshop {workshop_id} failed: HTTP {status}")
    return booking, cancel


def _slot(start: datetime, i: int) -> datetime:
    """The i-th one-hour slot of a coach's month: 8 a day from 09:00 Tunis, day after day."""
    return start + timedelta(days=i // 8, hours=9 + i % 8)


def _month_rows(
    coach: CoachProfile, start: datetime, students: list[Student], count: int
) -> list[dict[str, Any]]:
    """A coach's sessions in mixed states: 7 of 10 completed (with a report), then a no-show, a
    late family cancellation (no refund) and a coach cancellation."""
    states = [SessionStatus.COMPLETED] * 7 + [SessionStatus.NO_SHOW] + [SessionStatus.CANCELLED] * 2
    services = (ServiceType.COURS_ONLINE, ServiceType.COURS_PRESENTIEL)
    rows = []
    for i in range(count):
        starts, student = _slot(start, i), students[(coach.id + i) % len(students)]
        by = {8: student.user_id, 9: coach.user_id}.get(i % 10)
        row = {"student_id": student.id, "coach_id": coach.id, "subject": Subject.MATHEMATIQUES}
        row |= {"service": services[(i // 10) % 2], "status": states[i % 10], "credits_cost": Decimal(1)}
        row |= {"starts_at": starts, "ends_at": starts + timedelta(hours=1), "cancelled_by_id": by}
        row |= {"room_name": f"bench-pay-{coach.id}-{i}", "cancelled_at": by and starts - timedelta(hours=5)}
        rows.append(row)
    return rows


def _workshop_row(common: dict[str, Any], start: datetime, n: int) -> dict[str, Any]:
    """The n-th completed workshop of the big month: 18:00–19:30 Tunis on day n + 1."""
    starts = start + timedelta(days=n, hours=18)
    row = common | {"title": f"Atelier {n}", "room_name": f"bench-pay-workshop-{n}", "starts_at": starts}
    return row | {"ends_at": starts + timedelta(minutes=90), "completed_at": starts + timedelta(hours=2)}


def prepare_pay(app: Flask) -> tuple[int, str]:
    """Last month: one coach with 200 sessions and 8 completed workshops, 60 more with 60 each;
    their rates. The big month's coach and the month."""
    with app.app_context():
        month = coach_pay.shift(coach_pay.current_month(), -1)
        start, _ = coach_pay.bounds(month)
        ours = select(Student).join(Student.user).where(User.email.like(f"%@{DOMAIN}"))
        students = list(db.session.scalars(ours.order_by(Student.id)))
        coaches = [_coach(f"paie {n}") for n in range(COACHES + 1)]
        rows = _month_rows(coaches[0], start, students, BIG_MONTH)
        for coach in coaches[1:]:
            rows += _month_rows(coach, start, students, SESSIONS)
        stmt = insert(SessionBooking).returning(SessionBooking.id, sort_by_parameter_order=True)
        ids = list(db.session.scalars(stmt, rows))
        done = [i for i, row in zip(ids, rows, strict=True) if row["status"] is SessionStatus.COMPLETED]
        report = {"summary": "Séance", "topics": "Suites", "rating": 4, "attended": True}
        report |= {"progress_notes": "-", "recommendations": "-"}
        db.session.execute(insert(SessionReport), [{**report, "booking_id": i} for i in done])
        held = {"coach_id": coaches[0].id, "subject": Subject.MATHEMATIQUES, "grade": Grade.TERMINALE}
        held |= {"online": True, "seats": 8, "credits_cost": Decimal("2.25")}
        held["status"] = WorkshopStatus.COMPLETED
        db.session.execute(insert(Workshop), [_workshop_row(held, start, n) for n in range(WORKSHOPS_DONE)])
        since = (start - timedelta(days=365)).date()
        hourly = zip(PayModality, (30_000, 35_000, 45_000), strict=True)
        rates = [{"modality": m, "hourly_millimes": h, "effective_from": since} for m, h in hourly]
        db.session.execute(insert(CoachRate), [{**r, "coach_id": c.id} for c in coaches for r in rates])
        db.session.commit()
        return coaches[0].id, month


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


def measure_pay(app: Flask, coach_id: int, month: str, table: Table) -> None:
    with app.app_context():
        staff = db.session.scalar(select(User).where(User.email == STAFF))
        runs = [timed(lambda: coach_pay.refresh(None, coach_id, month)) for _ in range(REFRESH_RUNS)]
        statement = runs[-1][1]
        lines = db.session.scalar(select(func.count()).where(StatementLine.statement_id == statement.id))
        times = [t for t, _ in runs]
        label = f"refresh: 1 coach, {BIG_MONTH} sessions + {WORKSHOPS_DONE} workshops"
        table.add(label, len(times), ms(statistics.median(times)), ms(max(times)), f"{lines} lines")
        seconds, done = timed(lambda: coach_pay.validate(staff, statement.id))
        table.add("validate that statement (recomputed, numbered)", 1, ms(seconds), "", done.number)
        seconds, drafts = timed(lambda: coach_pay.refresh_month(staff, month))
        label = f"refresh_month: {COACHES} coaches × {SESSIONS} sessions (+ demo coaches)"
        table.add(label, 1, ms(seconds), "", f"{len(drafts)} drafts")


def add_row(table: Table, label: str, times: list[float], wall: float, unit: str, result: str) -> None:
    rate = f"{len(times) / wall:.1f}{unit}"
    table.add(label, len(times), rate, ms(percentile(times, 0.5)), ms(percentile(times, 0.95)), result)


@benchmark("workshops", order=55, help="workshops page, seats per second, last-seat race, coach pay")
def workshops_bench(ctx: Context) -> list[Table]:
    load = os.getloadavg()[0]
    app = app_for(ctx.database_url)
    ids, race, racers = prepare_workshops(app)
    sami = Session(ctx.base_url)
    sami.sign_in(SAMI, DEMO_PASSWORD)
    timed_gets(sami, PAGE, 20)  # warm up
    cards = sami.get(PAGE).text.count('id="atelier-')
    pages = Table(
        f"Workshops (gunicorn gthread, 2 workers; Sami's page lists {cards} open workshops)",
        ["measure", "requests", "rate", "p50", "p95", "result"],
    )
    alone = timed_gets(sami, PAGE, 100)
    add_row(pages, "workshops page, 1 client", alone, sum(alone), "/s", "200")
    together, wall = concurrent_gets(sami, PAGE)
    add_row(pages, f"workshops page, {CONCURRENT_CLIENTS} clients", together, wall, "/s", "200")
    poster = Poster(sami, csrf_of(sami, PAGE))
    rounds = [book_and_cancel(poster, ids[i % len(ids)]) for i in range(ROUNDS)]
    booking, cancel = [b for b, _ in rounds], [c for _, c in rounds]
    add_row(pages, "seat booking POST, 1 client", booking, sum(booking), " seats/s", "303, booked")
    add_row(pages, "seat cancel POST, ≥ 48 h ahead", cancel, sum(cancel), "/s", "303, refunded")
    flashes, wall = race_for_seat(ctx, race, racers)
    won, full = sum(BOOKED in f for f in flashes), sum(FULL in f for f in flashes)
    with app.app_context():
        held = workshops.seats_taken(race)
    outcome = f"{won} seat, {full} « complet », {len(flashes) - won - full} other; {held}/2 held"
    pages.add(
        f"last seat: {len(flashes)} students POST at once", len(flashes), f"wall {ms(wall)}", "", "", outcome
    )
    pages.notes += [
        f"1-min load average at the start: {load:.2f} on {os.cpu_count()} CPUs (the bench server's start "
        "included; other runs on the machine may share the CPUs).",
        "POST time = the request alone (its 303 is not followed); the flash is read afterwards.",
        "Each booking is cancelled ≥ 48 h ahead (credits refunded) before the next round.",
    ]
    columns = ["measure", "runs", "p50", "max", "result"]
    pay = Table("Coach pay (in process, one transaction each; last month)", columns)
    coach_id, month = prepare_pay(app)
    measure_pay(app, coach_id, month, pay)
    pay.notes.append(
        f"month {month}: 7 sessions in 10 completed with a report, then a no-show, a late family "
        "cancellation, a coach cancellation; online and centre alternate."
    )
    return [pages, pay]
