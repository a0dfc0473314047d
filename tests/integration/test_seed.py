"""`flask seed-demo`: the accounts of CONTRACT.md, and running it again changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.billing import Subscription, SubscriptionStatus
from nexus.models.catalog import OfferCode
from nexus.models.common import Role
from nexus.models.family import ParentProfile, Student
from nexus.models.identity import CoachProfile
from nexus.seed import seed_demo
from nexus.services import credits, identity
from tests.helpers import adam, user
from tests.people import ADMIN, ASSISTANTE, DEMO_PASSWORD, HELIOS, PARENT, PARENT2, SAMI, YASMINE, ZENON

ACCOUNTS = {
    ADMIN: Role.ADMIN,
    ASSISTANTE: Role.ASSISTANTE,
    HELIOS: Role.COACH,
    ZENON: Role.COACH,
    PARENT: Role.PARENT,
    YASMINE: Role.ELEVE,
    PARENT2: Role.PARENT,
    SAMI: Role.ELEVE,
}


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def test_seeding_twice_changes_nothing(app):
    before = row_counts()
    assert before["users"] == 9  # the 8 accounts and Adam
    seed_demo()
    seed_demo()
    assert row_counts() == before


@pytest.mark.parametrize(("email", "role"), sorted(ACCOUNTS.items()))
def test_demo_accounts_sign_in_with_the_published_password(app, email, role):
    account = identity.authenticate(email, DEMO_PASSWORD)
    assert account is not None
    assert account.role is role


def test_adam_waits_for_activation(app):
    student = adam()
    assert student.user.email is None
    assert student.user.password_hash is None
    assert student.user.activated_at is None
    assert student.parent.user.email == PARENT


def test_families(app):
    profiles = db.session.scalars(select(ParentProfile)).all()
    families = {p.user.email: sorted(c.user.first_name for c in p.children) for p in profiles}
    assert families == {PARENT: ["Adam", "Yasmine"], PARENT2: ["Sami"]}


def test_sami_is_on_a_paid_hybride_plan_with_four_credits(app):
    sami = db.session.scalar(select(Student).where(Student.user_id == user(SAMI).id))
    plan = db.session.scalar(select(Subscription).where(Subscription.student_id == sami.id))
    assert plan.plan is OfferCode.HYBRIDE
    assert plan.status is SubscriptionStatus.ACTIVE
    assert plan.aria_subjects == ["MATHEMATIQUES"]
    assert credits.balance(sami.id) == Decimal(4)


def test_yasmine_has_no_plan_yet(app):
    yasmine = db.session.scalar(select(Student).where(Student.user_id == user(YASMINE).id))
    assert db.session.scalar(select(Subscription.id).where(Subscription.student_id == yasmine.id)) is None
    assert yasmine.grade.value == "TERMINALE"


def test_coaches_have_their_pseudonyms_and_subjects(app):
    coaches = {c.pseudonym: c.subjects for c in db.session.scalars(select(CoachProfile))}
    assert coaches == {"Hélios": ["MATHEMATIQUES", "NSI"], "Zénon": ["FRANCAIS", "PHILOSOPHIE"]}
