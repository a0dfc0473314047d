"""Coach pay under concurrency (real commits): 50 validations at once number the statement once;
refreshes and adjustments arriving together never duplicate a line."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.coach_pay import (
    CoachStatement,
    LineKind,
    StatementLine,
    StatementSequence,
    StatementStatus,
)
from nexus.models.identity import User
from nexus.services import coach_pay
from tests import factories
from tests.helpers import at_once, refusals, user
from tests.integration import coach_pay_support as pay
from tests.integration.coach_pay_support import MONTH
from tests.people import ASSISTANTE, SAMI

pytestmark = pytest.mark.committed


def _coach_with_sessions(sessions: int = 3) -> tuple[int, int]:
    """A coach with rates and `sessions` held in February; (coach id, staff id), committed."""
    coach = pay.new_coach()
    pay.all_rates(coach)
    sami = factories.student(SAMI)
    for day in range(sessions):
        pay.session(coach, sami, f"2030-02-{day + 5:02d} 17:00")
    ids = coach.id, user(ASSISTANTE).id
    db.session.commit()
    return ids


def _lines_of(statement_id: int) -> list[StatementLine]:
    db.session.expire_all()
    stmt = (
        select(StatementLine)
        .where(StatementLine.statement_id == statement_id)
        .order_by(StatementLine.position)
    )
    return list(db.session.scalars(stmt))


def test_fifty_validations_at_once_number_the_statement_once(app):
    coach_id, staff_id = _coach_with_sessions()
    statement_id = coach_pay.refresh(None, coach_id, MONTH).id
    db.session.remove()

    def validate(_: int) -> str | None:
        return coach_pay.validate(db.session.get_one(User, staff_id), statement_id).number

    results = at_once(app, validate)
    numbers = [r for r in results if isinstance(r, str)]
    assert numbers == ["REM-203002-0001"]
    assert len(refusals(results)) == 49
    assert all("déjà validé" in r.message for r in refusals(results))
    statement = db.session.get_one(CoachStatement, statement_id)
    assert statement.status is StatementStatus.VALIDATED and statement.total_millimes == 90_000
    assert db.session.get_one(StatementSequence, 203002).current == 1
    audits = db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "coach_pay.validated")
    )
    assert audits == 1
    assert len(_lines_of(statement_id)) == 3


def test_fifty_refreshes_and_adjustments_at_once_never_duplicate_a_line(app):
    coach_id, staff_id = _coach_with_sessions()
    statement_id = coach_pay.refresh(None, coach_id, MONTH).id
    db.session.remove()

    def refresh_or_adjust(i: int) -> int:
        actor = db.session.get_one(User, staff_id)
        if i % 2:
            return coach_pay.adjust(actor, statement_id, 1_000, f"Prime n° {i}").id
        return coach_pay.refresh(actor, coach_id, MONTH).id

    results = at_once(app, refresh_or_adjust)
    assert refusals(results) == []
    lines = _lines_of(statement_id)
    kinds = [line.kind for line in lines]
    assert kinds == [LineKind.SESSION] * 3 + [LineKind.ADJUSTMENT] * 25
    assert [line.position for line in lines] == list(range(1, 29))
    assert len({line.booking_id for line in lines[:3]}) == 3
    statement = db.session.get_one(CoachStatement, statement_id)
    assert statement.total_millimes == 3 * 30_000 + 25 * 1_000 == sum(x.amount_millimes for x in lines)


def test_fifty_first_refreshes_at_once_make_one_draft(app):
    coach_id, staff_id = _coach_with_sessions(2)
    db.session.remove()

    def refresh(_: int) -> int:
        return coach_pay.refresh(db.session.get_one(User, staff_id), coach_id, MONTH).id

    results = at_once(app, refresh)
    assert refusals(results) == [] and len(set(results)) == 1
    count = db.session.scalar(
        select(func.count()).select_from(CoachStatement).where(CoachStatement.coach_id == coach_id)
    )
    assert count == 1
    assert [line.kind for line in _lines_of(results[0])] == [LineKind.SESSION] * 2
