"""Badges: the original's 15, in three families, each earned by something a student really did.

Every condition is read from the same facts as the index (sessions and their reports, finished
positioning tests, ARIA questions and feedback), so a badge is awarded by the refresh that
follows the event which earned it. What changed from the original, and why:

- first_login, weekly_first_login, login_streak_3/5 reward opening the app, not learning: they
  become the first session attended, ten sessions attended, and streaks of sessions attended
  in a row (a no-show or a late cancellation breaks a streak);
- late_night_study rewards studying late at night, against the sleep a teenager needs before
  school: it becomes four weeks in a row with some learning activity;
- first_module_completed, chapter_master, subject_50_percent and subject_master refer to modules
  and chapters this product does not have: they map onto the positioning tests (first test
  finished, a domain mastered at 85 or more, half the domains of a subject stable at 55 or
  more, every domain of a subject very solid at 70 or more);
- perfect_quiz_score means nothing on an adaptive test (it raises the difficulty until the
  student fails): it becomes progress between two tests of a subject (+5 points of mastery);
- the five ARIA badges are kept as they were (first question, 25 questions, 100 in one subject,
  questions in 3 subjects, 10 feedbacks on answers); a question the safety check flagged counts
  for nothing (a cry for help is no curiosity to reward).

Awarded once: the (student, badge) unique constraint and INSERT … ON CONFLICT DO NOTHING
RETURNING, so only the transaction that inserted a badge announces it, however many refreshes
run at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from nexus import fr, links
from nexus.extensions import db
from nexus.models.common import LabelledEnum
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import User
from nexus.models.progress import BadgeAward
from nexus.services import command, family, notifications, utcnow
from nexus.services.progress.activity import Facts, Outcome, load
from nexus.services.progress.index import gains

NOTICE_KIND = "BADGE_AWARDED"
MASTERED, STABLE, SOLID = 85, 55, 70  # domain mastery thresholds (the bilan's scale)
IMPROVED_BY = 5  # points of mean domain mastery between two tests of a subject


class BadgeFamily(LabelledEnum):
    ASSIDUITE = "ASSIDUITE", "Assiduité"
    PROGRESSION = "PROGRESSION", "Progression"
    CURIOSITE = "CURIOSITE", "Curiosité"


@dataclass(frozen=True)
class Achievements:
    """What the badges look at, computed once from the facts."""

    attended: int
    best_streak: int  # sessions attended in a row (unknown ones neither count nor break it)
    best_weeks: int  # consecutive weeks (Monday to Sunday, Tunis) with some activity
    tests: int
    best_gain: float | None
    best_domain: int | None  # the best domain mastery reached in a test
    half_stable: bool  # a subject with at least half of its domains at STABLE or more
    all_solid: bool  # a subject with every domain at SOLID or more
    questions: int
    best_subject_questions: int
    subjects_asked: int
    feedback: int


def achievements(facts: Facts) -> Achievements:
    streak = best_streak = 0
    for session in facts.sessions:
        if session.outcome is Outcome.ATTENDED:
            streak += 1
            best_streak = max(best_streak, streak)
        elif session.outcome is not Outcome.UNKNOWN:
            streak = 0
    per_subject: Counter[str] = Counter()
    for _, subject, n in facts.questions:
        per_subject[subject] += n
    masteries = [
        [d["mastery"] for d in part.get("domains", []) if d.get("mastery") is not None]
        for test in facts.tests
        for part in test.subjects
    ]
    found_gains = [g for _, g in gains(facts)]
    return Achievements(
        attended=sum(s.outcome is Outcome.ATTENDED for s in facts.sessions),
        best_streak=best_streak,
        best_weeks=_best_weeks(facts.activity_times()),
        tests=len(facts.tests),
        best_gain=max(found_gains) if found_gains else None,
        best_domain=max((m for ms in masteries for m in ms), default=None),
        half_stable=any(len(ms) >= 2 and 2 * sum(m >= STABLE for m in ms) >= len(ms) for ms in masteries),
        all_solid=any(len(ms) >= 2 and all(m >= SOLID for m in ms) for ms in masteries),
        questions=sum(per_subject.values()),
        best_subject_questions=max(per_subject.values(), default=0),
        subjects_asked=len(per_subject),
        feedback=sum(n for _, n in facts.feedback),
    )


def _best_weeks(times: list[datetime]) -> int:
    """The longest run of consecutive local weeks with at least one activity."""
    mondays = sorted({d - timedelta(days=d.weekday()) for d in (fr.local_today(t) for t in times)})
    best = run = 0
    for i, monday in enumerate(mondays):
        run = run + 1 if i and monday - mondays[i - 1] == timedelta(days=7) else 1
        best = max(best, run)
    return best


@dataclass(frozen=True)
class Badge:
    code: str
    family: BadgeFamily
    title: str
    description: str  # the condition, as the family reads it
    earned: Callable[[Achievements], bool]


BADGES: list[Badge] = [
    Badge("first_session", BadgeFamily.ASSIDUITE, "Première séance",
          "Suivre sa première séance avec un coach.", lambda a: a.attended >= 1),
    Badge("sessions_10", BadgeFamily.ASSIDUITE, "Dix séances",
          "Suivre dix séances avec un coach.", lambda a: a.attended >= 10),
    Badge("attendance_streak_3", BadgeFamily.ASSIDUITE, "Trois d'affilée",
          "Suivre trois séances de suite, sans absence ni annulation tardive.",
          lambda a: a.best_streak >= 3),
    Badge("attendance_streak_5", BadgeFamily.ASSIDUITE, "Cinq d'affilée",
          "Suivre cinq séances de suite, sans absence ni annulation tardive.",
          lambda a: a.best_streak >= 5),
    Badge("regular_4_weeks", BadgeFamily.ASSIDUITE, "Un mois régulier",
          "Travailler quatre semaines de suite (séance, test ou question à ARIA chaque semaine).",
          lambda a: a.best_weeks >= 4),
    Badge("first_test", BadgeFamily.PROGRESSION, "Premier bilan",
          "Terminer son premier test de positionnement.", lambda a: a.tests >= 1),
    Badge("test_improved", BadgeFamily.PROGRESSION, "En progrès",
          f"Gagner au moins {IMPROVED_BY} points de maîtrise entre deux tests d'une matière.",
          lambda a: a.best_gain is not None and a.best_gain >= IMPROVED_BY),
    Badge("domain_master", BadgeFamily.PROGRESSION, "Maître d'un domaine",
          f"Atteindre {MASTERED} % de maîtrise dans un domaine lors d'un test.",
          lambda a: a.best_domain is not None and a.best_domain >= MASTERED),
    Badge("subject_half", BadgeFamily.PROGRESSION, "À mi-parcours",
          f"Avoir au moins la moitié des domaines d'une matière à {STABLE} % de maîtrise ou plus.",
          lambda a: a.half_stable),
    Badge("subject_master", BadgeFamily.PROGRESSION, "Maîtrise de la matière",
          f"Avoir tous les domaines d'une matière à {SOLID} % de maîtrise ou plus lors d'un test.",
          lambda a: a.all_solid),
    Badge("first_aria_question", BadgeFamily.CURIOSITE, "Première question",
          "Poser sa première question à ARIA.", lambda a: a.questions >= 1),
    Badge("aria_questions_25", BadgeFamily.CURIOSITE, "Curieux",
          "Poser 25 questions à ARIA.", lambda a: a.questions >= 25),
    Badge("aria_questions_100_subject", BadgeFamily.CURIOSITE, "Passionné",
          "Poser 100 questions à ARIA dans une même matière.", lambda a: a.best_subject_questions >= 100),
    Badge("aria_3_subjects", BadgeFamily.CURIOSITE, "Touche-à-tout",
          "Poser des questions à ARIA dans trois matières.", lambda a: a.subjects_asked >= 3),
    Badge("aria_feedback_10", BadgeFamily.CURIOSITE, "Bon conseil",
          "Donner son avis sur dix réponses d'ARIA.", lambda a: a.feedback >= 10),
]  # fmt: skip
BY_CODE = {badge.code: badge for badge in BADGES}


@dataclass(frozen=True)
class BadgeView:
    """A badge as a page shows it: earned (with its date) or still to earn."""

    code: str
    family: BadgeFamily
    title: str
    description: str
    awarded_at: datetime | None

    @property
    def earned(self) -> bool:
        return self.awarded_at is not None

    @property
    def family_label(self) -> str:
        return self.family.label


def due(student_id: int) -> list[str]:
    """The codes of every badge the student's record earns now (awarded or not yet)."""
    reached = achievements(load(student_id, utcnow()))
    return [badge.code for badge in BADGES if badge.earned(reached)]


@command
def award_due(student_id: int) -> list[str]:
    """Award the badges the student has earned and does not hold yet; announce each new one in
    the bell of the student and of every parent. Returns the codes awarded by this call."""
    held = set(db.session.scalars(select(BadgeAward.badge).where(BadgeAward.student_id == student_id)))
    missing = sorted(code for code in due(student_id) if code not in held)  # one order: no deadlock
    if not missing:
        return []
    now = utcnow()
    stmt = (
        insert(BadgeAward)
        .values([{"student_id": student_id, "badge": code, "awarded_at": now} for code in missing])
        .on_conflict_do_nothing(constraint="uq_badge_awards_student_badge")
        .returning(BadgeAward.badge)
    )
    won = sorted(db.session.scalars(stmt))
    if won:
        _announce(student_id, won)
    return won


def _announce(student_id: int, codes: list[str]) -> None:
    row = db.session.execute(
        select(Student.user_id, User.first_name, ParentProfile.user_id)
        .join(User, User.id == Student.user_id)
        .join(ParentProfile, ParentProfile.id == Student.parent_id)
        .where(Student.id == student_id)
    ).one()
    student_user_id, first_name, opener_id = row
    parents = list(db.session.scalars(family.guardian_ids(opener_id)))
    mine, theirs = links.internal("dashboard.eleve"), links.internal("dashboard.parent")
    for code in codes:
        badge = BY_CODE[code]
        notifications.notify(
            student_user_id, NOTICE_KIND, f"Nouveau badge : {badge.title}", badge.description, mine
        )
        for parent_id in parents:
            title = f"{first_name} a obtenu le badge « {badge.title} »"
            notifications.notify(parent_id, NOTICE_KIND, title, badge.description, theirs)


def of_student(student_id: int) -> list[BadgeView]:
    """All 15 badges in order, the earned ones with their date."""
    awarded = dict(
        db.session.execute(
            select(BadgeAward.badge, BadgeAward.awarded_at).where(BadgeAward.student_id == student_id)
        ).all()
    )
    return [BadgeView(b.code, b.family, b.title, b.description, awarded.get(b.code)) for b in BADGES]
