"""Demo people that many integration tests start from (the seed creates them)."""

import pytest

from tests import factories
from tests.fakes.clictopay import PASSWORD, USERNAME, FakeClicToPay
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


@pytest.fixture(scope="module")
def gateway():
    """The fake ClicToPay, one per test module."""
    fake = FakeClicToPay()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def card(app, gateway, monkeypatch):
    """Card payment switched on against the fake gateway, answering normally."""
    monkeypatch.setitem(app.config, "CLICTOPAY_URL", gateway.api_url)
    monkeypatch.setitem(app.config, "CLICTOPAY_USERNAME", USERNAME)
    monkeypatch.setitem(app.config, "CLICTOPAY_PASSWORD", PASSWORD)
    monkeypatch.setattr(gateway, "failure", None)
    return gateway
