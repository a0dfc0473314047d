"""Scheduling: p95 of the slot page, and bookings per second (each booking is one transaction:
student lock, exclusion constraints, ledger entries, reminders, outbox e-mails and notifications).

Sami (4 credits, CREDITS_USE) books Hélios's slots at least two days ahead and cancels each one
again (a free cancellation gives the credit back), so the run can go on and leaves his balance as
it found it.
"""

from __future__ import annotations

import html
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta

from bench import benchmark
from bench.client import CSRF_INPUT, VALUE, Session
from bench.context import Context
from bench.loadgen import percentile
from bench.report import Table, ms
from nexus.seed import DEMO_PASSWORD

SAMI = "sami@nexus-reussite.tn"
SLOT_LINK = re.compile(r'href="(/dashboard/sessions/confirmer\?[^"]+)"')
COACH_LINK = re.compile(r"coach=(\d+)")
BOOKED = re.compile(r"/dashboard/sessions/(\d+)$")
SEQUENTIAL_PAGES = 100
CONCURRENT_CLIENTS = 8
CONCURRENT_PAGES = 25  # per client
BOOKING_ROUNDS = 30
PARALLEL_BOOKINGS = 4  # Sami's 4 credits


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Poster:
    """POSTs with the session's cookies, without following the 303 (so only the booking is timed)."""

    session: Session
    csrf: str

    def post(self, path: str, data: dict[str, str]) -> tuple[int, str, float]:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.session.jar), _NoRedirect
        )
        body = urllib.parse.urlencode({**data, "csrf_token": self.csrf}).encode()
        request = urllib.request.Request(self.session.url(path), data=body)  # noqa: S310
        started = time.perf_counter()
        try:
            with opener.open(request, timeout=30) as resp:
                status, location = resp.status, resp.headers.get("Location", "")
                resp.read()
        except urllib.error.HTTPError as error:
            status, location = error.code, error.headers.get("Location", "")
            error.read()
        return status, location or "", time.perf_counter() - started


def csrf_of(session: Session, path: str) -> str:
    match = CSRF_INPUT.search(session.get(path).text)
    value = VALUE.search(match.group(0)) if match else None
    if value is None:
        raise RuntimeError(f"no CSRF token on {path}")
    return value.group(1)


def slot_page(coach_id: int, first_day: date | None = None) -> str:
    path = f"/dashboard/eleve/sessions?matiere=MATHEMATIQUES&type=COURS_ONLINE&duree=60&coach={coach_id}"
    return path + (f"&du={first_day.isoformat()}" if first_day else "")


def free_slots(session: Session, coach_id: int, weeks: int = 4) -> list[dict[str, str]]:
    """Booking forms for free slots from two days ahead (free to cancel), a few weeks of them."""
    found = []
    for week in range(weeks):
        day = date.today() + timedelta(days=2 + 7 * week)
        for link in SLOT_LINK.findall(session.get(slot_page(coach_id, day)).text):
            query = urllib.parse.urlsplit(html.unescape(link)).query
            found.append({k: v[0] for k, v in urllib.parse.parse_qs(query).items()})
    return found


def timed_gets(session: Session, path: str, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(path)
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
    return latencies


def concurrent_gets(session: Session, path: str) -> tuple[list[float], float]:
    results: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        mine = timed_gets(session, path, CONCURRENT_PAGES)
        with lock:
            results.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(CONCURRENT_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def book_and_cancel(poster: Poster, form: dict[str, str]) -> float:
    status, location, seconds = poster.post("/dashboard/sessions/reserver", form)
    booked = BOOKED.search(location)
    if status != 303 or not booked:
        raise RuntimeError(f"booking answered {status} {location!r}")
    status, _, _ = poster.post(f"/dashboard/sessions/{booked.group(1)}/annuler", {"confirm": "1"})
    if status != 303:
        raise RuntimeError(f"cancel answered {status}")
    return seconds


def parallel(poster: Poster, forms: list[dict[str, str]]) -> list[tuple[int, str, float]]:
    """Post the forms at the same moment from as many threads; each result in order."""
    barrier = threading.Barrier(len(forms))
    results: list[tuple[int, str, float]] = [(0, "", 0.0)] * len(forms)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = poster.post("/dashboard/sessions/reserver", forms[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def cancel_all(poster: Poster, results: list[tuple[int, str, float]]) -> None:
    for _, location, _ in results:
        booked = BOOKED.search(location)
        if booked:
            poster.post(f"/dashboard/sessions/{booked.group(1)}/annuler", {"confirm": "1"})


@benchmark("scheduling", order=50, help="slot page p95 and bookings per second")
def scheduling(ctx: Context) -> list[Table]:
    session = Session(ctx.base_url)
    session.sign_in(SAMI, DEMO_PASSWORD)
    coach = COACH_LINK.search(session.get("/dashboard/eleve/sessions?matiere=MATHEMATIQUES").text)
    if coach is None:
        raise RuntimeError("no coach teaches MATHEMATIQUES")
    coach_id = int(coach.group(1))
    page = slot_page(coach_id)
    timed_gets(session, page, 20)  # warm up: templates, pools
    forms = free_slots(session, coach_id)
    needed = BOOKING_ROUNDS + PARALLEL_BOOKINGS + 1
    if len(forms) < needed:
        raise RuntimeError(f"only {len(forms)} free slots, {needed} needed")
    poster = Poster(
        session, csrf_of(session, "/dashboard/sessions/confirmer?" + urllib.parse.urlencode(forms[0]))
    )

    table = Table(
        "Scheduling (gunicorn gthread, 2 workers; Sami books Hélios's slots)",
        ["measure", "requests", "rate", "p50", "p95", "result"],
    )
    alone = timed_gets(session, page, SEQUENTIAL_PAGES)
    table.add(
        "slot page, 1 client",
        len(alone),
        f"{len(alone) / sum(alone):.0f}/s",
        ms(percentile(alone, 0.5)),
        ms(percentile(alone, 0.95)),
        "200",
    )
    together, elapsed = concurrent_gets(session, page)
    table.add(
        f"slot page, {CONCURRENT_CLIENTS} clients",
        len(together),
        f"{len(together) / elapsed:.0f}/s",
        ms(percentile(together, 0.5)),
        ms(percentile(together, 0.95)),
        "200",
    )

    booking_times = [book_and_cancel(poster, form) for form in forms[:BOOKING_ROUNDS]]
    table.add(
        "booking, 1 client (then cancelled)",
        len(booking_times),
        f"{len(booking_times) / sum(booking_times):.1f} bookings/s",
        ms(percentile(booking_times, 0.5)),
        ms(percentile(booking_times, 0.95)),
        "303",
    )

    chosen = forms[BOOKING_ROUNDS : BOOKING_ROUNDS + PARALLEL_BOOKINGS]
    started = time.perf_counter()
    results = parallel(poster, chosen)
    elapsed = time.perf_counter() - started
    cancel_all(poster, results)
    times = [seconds for _, _, seconds in results]
    table.add(
        f"booking, {PARALLEL_BOOKINGS} slots at once (one student: queued on his ledger lock)",
        len(results),
        f"{len(results) / elapsed:.1f} bookings/s",
        ms(percentile(times, 0.5)),
        ms(percentile(times, 0.95)),
        f"{sum(s == 303 for s, _, _ in results)} booked",
    )

    race = parallel(poster, [forms[-1]] * CONCURRENT_CLIENTS)
    cancel_all(poster, race)
    statuses = [s for s, _, _ in race]
    table.add(
        f"race: {CONCURRENT_CLIENTS} posts of the same slot",
        len(race),
        "",
        ms(percentile([t for _, _, t in race], 0.5)),
        ms(percentile([t for _, _, t in race], 0.95)),
        f"{statuses.count(303)} booked, {statuses.count(409)} × 409",
    )
    table.notes += [
        "booking time = the POST alone (its 303 is not followed); each booking is cancelled again.",
        "rate of the slot page = requests / wall time; the page computes a week of free slots.",
    ]
    return [table]
