"""@command: a state change owns its transaction (commit on return, roll back on raise, join when
nested), so views and jobs never commit."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from nexus.extensions import db
from nexus.models.identity import User
from nexus.services import ServiceError, command
from tests.people import PARENT

pytestmark = pytest.mark.committed


def _rename(first_name: str) -> None:
    db.session.scalars(select(User).where(User.email == PARENT)).one().first_name = first_name


@command
def rename(first_name: str) -> str:
    _rename(first_name)
    return first_name


@command
def rename_then_refuse(first_name: str) -> None:
    _rename(first_name)
    raise ServiceError("Refusé.")


@command
def rename_twice_then_refuse() -> None:
    rename("Premier")  # joins: its commit waits for this command, and is undone with it
    rename_then_refuse("Second")


def _stored_name(app: Flask) -> str:
    """The name as another connection sees it: only what was committed."""
    with app.app_context():
        name = db.session.scalars(select(User.first_name).where(User.email == PARENT)).one()
        db.session.remove()
        return name


def test_a_command_commits_when_it_returns(app: Flask) -> None:
    with app.app_context():
        assert rename("Commité") == "Commité"
    assert _stored_name(app) == "Commité"


def test_a_refused_command_changes_nothing(app: Flask) -> None:
    before = _stored_name(app)
    with app.app_context(), pytest.raises(ServiceError):
        rename_then_refuse("Jamais")
    assert _stored_name(app) == before


def test_a_nested_command_joins_the_outer_transaction(app: Flask) -> None:
    before = _stored_name(app)
    with app.app_context(), pytest.raises(ServiceError):
        rename_twice_then_refuse()
    assert _stored_name(app) == before
