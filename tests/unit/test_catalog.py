"""The catalog, the one source of truth for prices and credits (issue #2, item 4)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, localcontext

import pytest

from nexus.models.catalog import Feature, OfferCode, OfferKind, ServiceType
from nexus.services import catalog

# code: (kind, price in TND, credits, ARIA subjects)
EXPECTED = {
    OfferCode.ACCES_PLATEFORME: (OfferKind.PLAN, 150, 0, 1),
    OfferCode.HYBRIDE: (OfferKind.PLAN, 450, 4, 1),
    OfferCode.IMMERSION: (OfferKind.PLAN, 750, 8, 1),
    OfferCode.ARIA_MATIERE: (OfferKind.ARIA_ADDON, 50, 0, 1),
    OfferCode.ARIA_TOUTES_MATIERES: (OfferKind.ARIA_ADDON, 120, 0, -1),
    OfferCode.GRAND_ORAL: (OfferKind.PACK, 750, 4, 0),
    OfferCode.BAC_FRANCAIS: (OfferKind.PACK, 1200, 6, 0),
    OfferCode.ORIENTATION: (OfferKind.PACK, 900, 3, 0),
    OfferCode.CREDITS_5: (OfferKind.CREDIT_PACK, 300, 5, 0),
    OfferCode.CREDITS_10: (OfferKind.CREDIT_PACK, 570, 10, 0),
    OfferCode.CREDITS_20: (OfferKind.CREDIT_PACK, 1080, 20, 0),
}


@pytest.mark.parametrize("code", list(EXPECTED))
def test_offer_prices_and_credits(code):
    kind, tnd, credits, aria = EXPECTED[code]
    offer = catalog.offer(code)
    assert offer.kind is kind
    assert offer.price_millimes == tnd * 1000
    assert offer.credits == Decimal(credits)
    assert offer.aria_subjects == aria


def test_the_catalog_has_exactly_these_offers():
    assert {o.code for o in catalog.OFFERS} == set(EXPECTED)
    assert all(isinstance(o.price_millimes, int) for o in catalog.OFFERS)


def test_plan_features():
    assert Feature.REFERENT_COACH not in catalog.offer(OfferCode.ACCES_PLATEFORME).features
    assert Feature.REFERENT_COACH in catalog.offer(OfferCode.HYBRIDE).features
    assert Feature.QUARTERLY_BILAN in catalog.offer(OfferCode.IMMERSION).features
    assert Feature.QUARTERLY_BILAN not in catalog.offer(OfferCode.HYBRIDE).features
    assert all(Feature.ARIA in o.features for o in catalog.offers_of(OfferKind.PLAN))


def test_monthly_offers_are_plans_and_addons():
    assert {o.code for o in catalog.OFFERS if o.monthly} == {
        OfferCode.ACCES_PLATEFORME,
        OfferCode.HYBRIDE,
        OfferCode.IMMERSION,
        OfferCode.ARIA_MATIERE,
        OfferCode.ARIA_TOUTES_MATIERES,
    }


def test_offers_of_keeps_the_display_order():
    plans = [o.code for o in catalog.offers_of(OfferKind.PLAN)]
    assert plans == [OfferCode.ACCES_PLATEFORME, OfferCode.HYBRIDE, OfferCode.IMMERSION]


def test_credit_costs_per_hour():
    costs = catalog.CREDIT_COSTS
    assert costs == {
        ServiceType.COURS_ONLINE: Decimal("1"),
        ServiceType.COURS_PRESENTIEL: Decimal("1.25"),
        ServiceType.ATELIER_GROUPE: Decimal("1.5"),
    }


def test_credit_validity():
    assert catalog.SUBSCRIPTION_CREDIT_VALIDITY_MONTHS == 2
    pack_validity = catalog.PACK_CREDIT_VALIDITY
    assert pack_validity == timedelta(days=365)


@pytest.mark.parametrize(
    ("service", "minutes", "cost"),
    [
        (ServiceType.COURS_ONLINE, 60, "1.00"),
        (ServiceType.COURS_ONLINE, 90, "1.50"),
        (ServiceType.COURS_PRESENTIEL, 60, "1.25"),
        # 1.25 x 1.5 h = 1.875: rounded half up to the hundredth.
        (ServiceType.COURS_PRESENTIEL, 90, "1.88"),
        (ServiceType.COURS_PRESENTIEL, 120, "2.50"),
        (ServiceType.ATELIER_GROUPE, 60, "1.50"),
        (ServiceType.ATELIER_GROUPE, 45, "1.13"),  # 1.125, half up (half-even would say 1.12)
        (ServiceType.ATELIER_GROUPE, 120, "3.00"),
    ],
)
def test_session_cost(service, minutes, cost):
    result = catalog.session_cost(service, minutes)
    assert result == Decimal(cost)
    assert result.as_tuple().exponent == -2


def test_session_cost_ignores_the_thread_decimal_context():
    with localcontext() as ctx:
        ctx.rounding = "ROUND_DOWN"
        assert catalog.session_cost(ServiceType.COURS_PRESENTIEL, 90) == Decimal("1.88")


def test_lookup_by_code():
    assert catalog.offer("HYBRIDE") is catalog.offer(OfferCode.HYBRIDE)
    assert catalog.find("IMMERSION").price_millimes == 750_000
    assert catalog.find("GRATUIT") is None
    assert catalog.find(None) is None
    with pytest.raises((KeyError, ValueError)):
        catalog.offer("GRATUIT")
