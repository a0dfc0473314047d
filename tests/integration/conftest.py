"""Demo people that many integration tests start from (the seed creates them)."""

import pytest

from tests import factories
from tests.people import SAMI, YASMINE


@pytest.fixture
def sami():
    """Première, HYBRIDE plan, 4 credits, ARIA maths (parent2's child)."""
    return factories.student(SAMI)


@pytest.fixture
def yasmine():
    """Terminale, no plan, no credits (parent's child)."""
    return factories.student(YASMINE)


@pytest.fixture
def helios():
    """The maths/NSI coach, weekday afternoons."""
    return factories.coach("Hélios")
