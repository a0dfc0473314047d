"""Demo people that many integration tests start from (the seed creates them)."""

import pytest

from tests import factories


@pytest.fixture
def sami():
    """Première, HYBRIDE plan, 4 credits, ARIA maths (parent2's child)."""
    return factories.student("sami@nexus-reussite.tn")


@pytest.fixture
def yasmine():
    """Terminale, no plan, no credits (parent's child)."""
    return factories.student("yasmine@nexus-reussite.tn")


@pytest.fixture
def helios():
    """The maths/NSI coach, weekday afternoons."""
    return factories.coach("Hélios")
