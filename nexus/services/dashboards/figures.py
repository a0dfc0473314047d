"""The staff homes' figures: revenue and sessions by month (admin), today's sessions and the
centre's headcount (assistante). Aggregated in SQL, bounded by the months shown; the admin's
closed months are read from the monthly rollups (analytics.rollups)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from nexus import fr
from nexus.extensions import db
from nexus.models.family import Student
from nexus.models.identity import CoachProfile, User
from nexus.models.scheduling import SessionBooking, SessionStatus
from nexus.services import utcnow
from nexus.services.analytics import periods, revenue, sessions

MONTHS_SHOWN = 12
TODAY_LIMIT = 30


@dataclass(frozen=True)
class AdminFigures:
    revenue: list[revenue.Month]  # the last 12 months, the current one last
    sessions: list[sessions.Month]

    @property
    def revenue_now(self) -> int:
        return self.revenue[-1].total

    @property
    def revenue_before(self) -> int:
        return self.revenue[-2].total

    @property
    def growth(self) -> int | None:
        return revenue.growth(self.revenue_now, self.revenue_before)

    @property
    def sessions_now(self) -> int:
        return self.sessions[-1].count

    @property
    def sessions_before(self) -> int:
        return self.sessions[-2].count

    @property
    def month(self) -> str:
        return periods.month_label(self.revenue[-1].first)

    @property
    def previous_month(self) -> str:
        return periods.month_label(self.revenue[-2].first)


def admin_figures() -> AdminFigures:
    """Revenue and sessions per month: the closed months from their rollups, the current one live."""
    return AdminFigures(revenue.monthly(MONTHS_SHOWN), sessions.monthly(MONTHS_SHOWN))


@dataclass(frozen=True)
class AssistanteFigures:
    today: list[SessionBooking]  # today's sessions (Tunis day), cancelled ones left out
    today_count: int
    students: int
    coaches: int


def assistante_figures() -> AssistanteFigures:
    """Today's sessions (the first TODAY_LIMIT) and the number of students and coaches."""
    start = periods.midnight(fr.local_today(utcnow()))
    end = periods.midnight(fr.local_today(utcnow()) + timedelta(days=1))
    today = (
        SessionBooking.starts_at >= start,
        SessionBooking.starts_at < end,
        SessionBooking.status != SessionStatus.CANCELLED,
    )
    rows = db.session.scalars(
        select(SessionBooking)
        .options(
            joinedload(SessionBooking.student).joinedload(Student.user),
            joinedload(SessionBooking.coach),
        )
        .where(*today)
        .order_by(SessionBooking.starts_at, SessionBooking.id)
        .limit(TODAY_LIMIT)
    )
    counts = select(
        select(func.count()).where(*today).scalar_subquery(),
        select(func.count())
        .select_from(Student)
        .join(User, User.id == Student.user_id)
        .where(User.is_active)
        .scalar_subquery(),
        select(func.count())
        .select_from(CoachProfile)
        .join(User, User.id == CoachProfile.user_id)
        .where(User.is_active)
        .scalar_subquery(),
    )
    today_count, students, coaches = db.session.execute(counts).one()
    return AssistanteFigures(list(rows), today_count, students, coaches)
