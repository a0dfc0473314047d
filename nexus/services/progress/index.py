"""The Nexus Index: one 0–100 figure per student, always shown with what it is made of.

The window is the last 90 days: a term of school, long enough for a student with one session a
fortnight to have several data points, short enough that last year's habits no longer weigh.
The trend compares the last 30 days with the 30 before: a month is what a family feels as
"lately", and two such windows fit in the 90 days.

The four parts (each 0–100, None when it has nothing to measure, its weight then shared by the
others in proportion; no part at all gives no score, shown as "pas encore assez de données"):

- attendance (30 %): each past session counts 1 when a report says the student came, 0.8 when
  it took place without a report saying so, 0 for a no-show, a report saying the student was
  absent, or a cancellation by the family after the free deadline; a cancellation in time, by the
  coach or the staff, or a session moved to another date does not count;
- progression (30 %): the coaches' ratings (1–5; those of the last 30 days count double) for
  60 %, and for 40 % the mastery gained between successive positioning tests in a subject
  (+20 points of mean domain mastery give 100, no change 50, −20 points 0);
- engagement (20 %): ARIA questions (two a week is full marks; counted only once the student has
  used ARIA, so a plan without ARIA costs nothing), feedback given on answers (one for five
  questions is full marks), and the share of session reports the family opened;
- regularity (20 %): the share of the window's weeks (7-day spans counted back from now, only
  those since the student joined) with at least one activity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on

from nexus import fr
from nexus.extensions import db
from nexus.models.family import Student
from nexus.models.identity import User
from nexus.models.progress import IndexLevel, IndexSnapshot
from nexus.services import command, utcnow
from nexus.services.progress.activity import Facts, Outcome, load

WINDOW = timedelta(days=90)
TREND_WINDOW = timedelta(days=30)
RECENT = timedelta(days=30)  # ratings this recent count double
WEEK = timedelta(days=7)

# (attribute of IndexSnapshot, French label, weight in %)
PARTS: list[tuple[str, str, int]] = [
    ("attendance", "Assiduité", 30),
    ("progression", "Progression", 30),
    ("engagement", "Engagement", 20),
    ("regularity", "Régularité", 20),
]
PART_HINTS: dict[str, str] = {
    "attendance": "Séances suivies, absences et annulations tardives des 90 derniers jours.",
    "progression": "Notes des coachs (les plus récentes comptent double) et progrès entre deux tests.",
    "engagement": "Questions à ARIA, avis donnés sur ses réponses, comptes rendus lus par la famille.",
    "regularity": "Part des semaines avec au moins une activité.",
}
NOT_ENOUGH = "pas encore assez de données"

# Lowest score of each level, best first.
LEVELS: list[tuple[int, IndexLevel]] = [
    (80, IndexLevel.EXCELLENT),
    (65, IndexLevel.GOOD),
    (50, IndexLevel.PROGRESSING),
    (35, IndexLevel.TO_STRENGTHEN),
    (0, IndexLevel.BEGINNER),
]

# Within progression and engagement, the weight of each component (shared when one is missing).
RATING_SHARE, TEST_SHARE = 0.6, 0.4
ARIA_SHARE, FEEDBACK_SHARE, READ_SHARE = 0.5, 0.2, 0.3
QUESTIONS_PER_WEEK = 2
QUESTIONS_PER_FEEDBACK = 5
GAIN_SCALE = 2.5  # points of index per point of mastery gained, around 50


def level_of(score: int | None) -> IndexLevel | None:
    if score is None:
        return None
    return next(level for floor, level in LEVELS if score >= floor)


@dataclass(frozen=True)
class Result:
    """One window's computation: the parts, the score, and the counts behind each part."""

    parts: dict[str, float | None]
    score: int | None
    details: dict[str, dict[str, Any]]


def _weighted(values: list[tuple[float | None, float]]) -> float | None:
    """The weighted mean of the values that exist, their weights rescaled to sum to one."""
    present = [(v, w) for v, w in values if v is not None]
    total = sum(w for _, w in present)
    if not present or total == 0:
        return None
    return sum(v * w for v, w in present) / total


def _in(at: datetime, start: datetime, end: datetime) -> bool:
    return start < at <= end


def attendance(facts: Facts, start: datetime, end: datetime) -> tuple[float | None, dict[str, Any]]:
    """100 × the mean attendance credit of the window's sessions."""
    sessions = [s for s in facts.sessions if _in(s.at, start, end)]
    counts = {o.value: sum(s.outcome is o for s in sessions) for o in Outcome}
    details = {"sessions": len(sessions), **counts}
    if not sessions:
        return None, details
    return 100 * sum(s.outcome.credit for s in sessions) / len(sessions), details


def progression(facts: Facts, start: datetime, end: datetime) -> tuple[float | None, dict[str, Any]]:
    """Coaches' ratings (recent ones double) and mastery gains between successive tests."""
    rated = [s for s in facts.sessions if s.rating is not None and _in(s.at, start, end)]
    weights = [2 if s.at > end - RECENT else 1 for s in rated]
    weighted = sum((s.rating or 0) * w for s, w in zip(rated, weights, strict=True))
    mean_rating = weighted / sum(weights) if rated else None
    ratings = None if mean_rating is None else 100 * (mean_rating - 1) / 4
    gained = [g for at, g in gains(facts) if _in(at, start, end)]
    mean_gain = sum(gained) / len(gained) if gained else None
    tests = None if mean_gain is None else min(100.0, max(0.0, 50 + GAIN_SCALE * mean_gain))
    details = {
        "ratings": len(rated),
        "mean_rating": None if mean_rating is None else round(mean_rating, 1),
        "tests_compared": len(gained),
        "mastery_gain": None if mean_gain is None else round(mean_gain, 1),
    }
    return _weighted([(ratings, RATING_SHARE), (tests, TEST_SHARE)]), details


def gains(facts: Facts) -> list[tuple[datetime, float]]:
    """For each subject of each finished test: (when, the mean change of domain mastery since the
    previous test in that subject, over the domains both measured)."""
    previous: dict[str, dict[str, float]] = {}
    found = []
    for test in facts.tests:
        for part in test.subjects:
            domains = part.get("domains", [])
            mastery = {d["key"]: d["mastery"] for d in domains if d.get("mastery") is not None}
            subject = part.get("subject", "")
            before = previous.get(subject) or {}
            shared = [k for k in mastery if k in before]
            if shared:
                found.append((test.at, sum(mastery[k] - before[k] for k in shared) / len(shared)))
            if mastery:
                previous[subject] = mastery
    return found


def engagement(facts: Facts, start: datetime, end: datetime) -> tuple[float | None, dict[str, Any]]:
    """ARIA questions, feedback on answers, session reports opened by the family."""
    weeks = (end - start) / WEEK
    asked = sum(n for at, _, n in facts.questions if _in(at, start, end))
    uses_aria = any(at <= end for at, _, _ in facts.questions)
    given = sum(n for at, n in facts.feedback if _in(at, start, end))
    reports = [s for s in facts.sessions if s.reported_at is not None and _in(s.at, start, end)]
    read = sum(s.read_at is not None and s.read_at <= end for s in reports)
    aria = min(1.0, asked / (QUESTIONS_PER_WEEK * weeks)) if uses_aria else None
    feedback = min(1.0, given / math.ceil(asked / QUESTIONS_PER_FEEDBACK)) if asked else None
    reading = read / len(reports) if reports else None
    details = {"aria_questions": asked, "aria_feedback": given, "reports": len(reports), "reports_read": read}
    value = _weighted([(aria, ARIA_SHARE), (feedback, FEEDBACK_SHARE), (reading, READ_SHARE)])
    return None if value is None else 100 * value, details


def regularity(facts: Facts, start: datetime, end: datetime) -> tuple[float | None, dict[str, Any]]:
    """The share of the window's weeks, since the student started, with at least one activity."""
    times = [at for at in facts.activity_times() if _in(at, start, end)]
    started = facts.started_at
    spans = [(end - (k + 1) * WEEK, end - k * WEEK) for k in range(int((end - start) / WEEK))]
    spans = [(a, b) for a, b in spans if b > started]
    active = sum(any(a < t <= b for t in times) for a, b in spans)
    details = {"weeks": len(spans), "active_weeks": active}
    if not spans or not _known(facts, end):
        return None, details
    return 100 * active / len(spans), details


def _known(facts: Facts, end: datetime) -> bool:
    """Whether the student did anything at all before `end` (else regularity has nothing to say)."""
    return any(t <= end for t in facts.activity_times())


def evaluate(facts: Facts, start: datetime, end: datetime) -> Result:
    """The index over one window (start excluded, end included)."""
    found = {
        "attendance": attendance(facts, start, end),
        "progression": progression(facts, start, end),
        "engagement": engagement(facts, start, end),
        "regularity": regularity(facts, start, end),
    }
    parts = {attr: value for attr, (value, _) in found.items()}
    score = _weighted([(parts[attr], weight) for attr, _, weight in PARTS])
    # Activity alone (a regularity of weeks with nothing else measured) is not yet an index.
    if all(parts[attr] is None for attr in ("attendance", "progression", "engagement")):
        score = None
    return Result(
        parts=parts,
        score=None if score is None else math.floor(score + 0.5),  # 62.5 is 63, not 62
        details={attr: counts for attr, (_, counts) in found.items()},
    )


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 1)))


@command
def compute(student_id: int, cause: str, *, at: datetime | None = None) -> IndexSnapshot:
    """Compute the student's index now (or as it stood `at`, from the facts known then) and store it.

    When nothing changed since the latest snapshot of the same day (an ARIA question that moves
    no figure), that snapshot is brought up to date instead of adding a row per event.
    """
    now = utcnow() if at is None else at
    facts = load(student_id, now)
    main = evaluate(facts, now - WINDOW, now)
    recent = evaluate(facts, now - TREND_WINDOW, now)
    before = evaluate(facts, now - 2 * TREND_WINDOW, now - TREND_WINDOW)
    trend = None if recent.score is None or before.score is None else recent.score - before.score
    snapshot = IndexSnapshot(
        student_id=student_id,
        computed_at=now,
        score=main.score,
        level=level_of(main.score),
        trend=None if trend is None else Decimal(trend),
        details={
            **main.details,
            "window_days": WINDOW.days,
            "trend_scores": [before.score, recent.score],
        },
        cause=cause[:20],
        **{attr: _decimal(main.parts[attr]) for attr, _, _ in PARTS},
    )
    previous = latest([student_id])[student_id]
    if previous is not None and _same_day_same_figures(previous, snapshot):
        previous.computed_at, previous.cause = now, snapshot.cause
        db.session.flush()
        return previous
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


_FIGURES = ("score", "level", "trend", "details", *(attr for attr, _, _ in PARTS))


def _same_day_same_figures(previous: IndexSnapshot, new: IndexSnapshot) -> bool:
    same_day = fr.local_today(previous.computed_at) == fr.local_today(new.computed_at)
    return same_day and all(getattr(previous, f) == getattr(new, f) for f in _FIGURES)


def latest(student_ids: list[int]) -> dict[int, IndexSnapshot | None]:
    """Each student's latest snapshot (None when never computed), in one query."""
    found: dict[int, IndexSnapshot | None] = dict.fromkeys(student_ids)
    if not student_ids:
        return found
    stmt = (
        select(IndexSnapshot)
        .where(IndexSnapshot.student_id.in_(student_ids))
        .ext(distinct_on(IndexSnapshot.student_id))
        .order_by(IndexSnapshot.student_id, IndexSnapshot.computed_at.desc(), IndexSnapshot.id.desc())
    )
    for snapshot in db.session.scalars(stmt):
        found[snapshot.student_id] = snapshot
    return found


def history(student_id: int, since: date | None = None) -> list[IndexSnapshot]:
    """The student's index over time, oldest first: one point per day (Tunis), the day's last."""
    day = func.date(func.timezone(fr.TUNIS.key, IndexSnapshot.computed_at))
    stmt = select(IndexSnapshot).where(IndexSnapshot.student_id == student_id)
    if since is not None:
        stmt = stmt.where(day >= since)
    stmt = stmt.ext(distinct_on(day)).order_by(day, IndexSnapshot.computed_at.desc(), IndexSnapshot.id.desc())
    return list(db.session.scalars(stmt))


def student_ids(among: list[int] | None = None) -> list[int]:
    """Every student whose account is not anonymised (the nightly pass), or those of `among`."""
    stmt = select(Student.id).join(User, User.id == Student.user_id).where(User.anonymised_at.is_(None))
    if among is not None:
        stmt = stmt.where(Student.id.in_(among))
    return list(db.session.scalars(stmt.order_by(Student.id)))


@dataclass(frozen=True)
class PartView:
    """One part of a snapshot as the family reads it: its value and the counts behind it."""

    attr: str
    label: str
    weight: int
    value: int | None  # 0–100, None when there was nothing to measure
    hint: str  # what the part measures
    text: str  # what it is made of for this student ("4 séances suivies sur 5…")


def parts_of(snapshot: IndexSnapshot) -> list[PartView]:
    """The four parts of a snapshot with the French sentence that explains each."""
    views = []
    for attr, label, weight in PARTS:
        value = getattr(snapshot, attr)
        counts = (snapshot.details or {}).get(attr) or {}
        text = _EXPLAIN[attr](counts) if value is not None else _NOTHING[attr]
        views.append(
            PartView(attr, label, weight, None if value is None else round(value), PART_HINTS[attr], text)
        )
    return views


def _decimal_fr(value: float) -> str:
    return fr.number(Decimal(str(value)))


def _attendance_text(c: dict[str, Any]) -> str:
    attended, sessions = c.get("attended", 0), c.get("sessions", 0)
    parts = [f"{attended} {fr.agree(attended, 'séance suivie', 'séances suivies')} sur {sessions}"]
    if c.get("unknown"):
        parts.append(
            fr.plural(c["unknown"], "sans compte rendu de présence", "sans compte rendu de présence")
        )
    missed = c.get("absent", 0) + c.get("no_show", 0)
    if missed:
        parts.append(fr.plural(missed, "absence"))
    if c.get("late_cancel"):
        parts.append(fr.plural(c["late_cancel"], "annulation tardive", "annulations tardives"))
    return ", ".join(parts) + "."


def _progression_text(c: dict[str, Any]) -> str:
    parts = []
    if c.get("mean_rating") is not None:
        notes = fr.plural(c["ratings"], "note")
        parts.append(f"note moyenne des coachs {_decimal_fr(c['mean_rating'])}/5 ({notes})")
    if c.get("mastery_gain") is not None:
        gain = c["mastery_gain"]
        sign = "+" if gain > 0 else ""
        parts.append(f"{sign}{_decimal_fr(gain)} points de maîtrise entre deux tests")
    return (", ".join(parts) or "rien à mesurer").capitalize() + "."


def _engagement_text(c: dict[str, Any]) -> str:
    asked, given = c.get("aria_questions", 0), c.get("aria_feedback", 0)
    parts = [
        fr.plural(asked, "question à ARIA", "questions à ARIA"),
        fr.plural(given, "avis donné", "avis donnés"),
    ]
    if c.get("reports"):
        read = fr.plural(c.get("reports_read", 0), "compte rendu lu", "comptes rendus lus")
        parts.append(f"{read} sur {c['reports']}")
    return ", ".join(parts) + "."


def _regularity_text(c: dict[str, Any]) -> str:
    active = c.get("active_weeks", 0)
    return f"{fr.plural(active, 'semaine active', 'semaines actives')} sur {c.get('weeks', 0)}."


_EXPLAIN = {
    "attendance": _attendance_text,
    "progression": _progression_text,
    "engagement": _engagement_text,
    "regularity": _regularity_text,
}
_NOTHING = {
    "attendance": "Aucune séance passée sur la période.",
    "progression": "Ni note de coach ni second test à comparer sur la période.",
    "engagement": "Rien à mesurer encore (ni ARIA ni compte rendu).",
    "regularity": "Aucune activité encore.",
}
