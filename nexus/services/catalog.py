"""The catalog: the one source of truth for prices, credits and durations (rule 1).

Amounts are millimes (1 TND = 1000); credits are exact Decimals. The browser never sends a
price: billing looks the offer up here by its code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from nexus.models.billing import Payment
from nexus.models.catalog import Feature, OfferCode, OfferKind, ServiceType
from nexus.models.common import Subject
from nexus.models.stages import Stage


def tnd(amount: int) -> int:
    """Whole dinars to millimes."""
    return amount * 1000


@dataclass(frozen=True)
class Offer:
    code: OfferCode
    kind: OfferKind
    name: str
    price_millimes: int
    summary: str
    credits: Decimal = Decimal(0)  # per month for plans, once for packs
    aria_subjects: int = 0  # ARIA subjects included or added; -1 = all subjects
    features: frozenset[Feature] = field(default_factory=frozenset)
    highlights: tuple[str, ...] = ()
    popular: bool = False

    @property
    def monthly(self) -> bool:
        return self.kind in (OfferKind.PLAN, OfferKind.ARIA_ADDON)

    @property
    def needs_subject(self) -> bool:
        """Plans and the one-subject add-on ask which subject ARIA covers."""
        return self.kind is OfferKind.PLAN or self.code is OfferCode.ARIA_MATIERE


_BASE = frozenset({Feature.PLATFORM_ACCESS, Feature.ARIA})


def _pack(
    code: OfferCode, name: str, dinars: int, summary: str, *, credits: int, kind: OfferKind = OfferKind.PACK
) -> Offer:
    """A pack: credits of sessions, bought once."""
    features = frozenset({Feature.CREDITS_USE})
    return Offer(code, kind, name, tnd(dinars), summary, credits=Decimal(credits), features=features)


def _credit_pack(code: OfferCode, *, credits: int, dinars: int) -> Offer:
    """Credits alone, named and described by their number."""
    summary = f"{credits} crédits de séances, valables 12 mois."
    return _pack(code, f"{credits} crédits", dinars, summary, credits=credits, kind=OfferKind.CREDIT_PACK)


OFFERS: tuple[Offer, ...] = (
    Offer(
        OfferCode.ACCES_PLATEFORME,
        OfferKind.PLAN,
        "Accès Plateforme",
        tnd(150),
        "La plateforme et ARIA, pour travailler en autonomie.",
        aria_subjects=1,
        features=_BASE,
        highlights=(
            "Accès 24 h/24 aux ressources",
            "ARIA, tuteur IA, sur 1 matière",
            "Suivi de progression",
            "Support par e-mail",
        ),
    ),
    Offer(
        OfferCode.HYBRIDE,
        OfferKind.PLAN,
        "Hybride",
        tnd(450),
        "La plateforme et un coach référent, avec 4 crédits de séances par mois.",
        credits=Decimal(4),
        aria_subjects=1,
        features=_BASE | {Feature.CREDITS_USE, Feature.REFERENT_COACH, Feature.PRIORITY_SUPPORT},
        highlights=(
            "Tout l'Accès Plateforme",
            "4 crédits de séances par mois",
            "Un coach référent",
            "Support prioritaire",
        ),
        popular=True,
    ),
    Offer(
        OfferCode.IMMERSION,
        OfferKind.PLAN,
        "Immersion",
        tnd(750),
        "Un accompagnement intensif : 8 crédits par mois et un bilan chaque trimestre.",
        credits=Decimal(8),
        aria_subjects=1,
        features=_BASE
        | {
            Feature.CREDITS_USE,
            Feature.REFERENT_COACH,
            Feature.PRIORITY_SUPPORT,
            Feature.QUARTERLY_BILAN,
            Feature.INTENSIVE_FOLLOWUP,
        },
        highlights=(
            "Tout l'Hybride",
            "8 crédits de séances par mois",
            "Bilan trimestriel",
            "Suivi intensif",
        ),
    ),
    Offer(
        OfferCode.ARIA_MATIERE,
        OfferKind.ARIA_ADDON,
        "ARIA +1 matière",
        tnd(50),
        "Une matière de plus pour ARIA.",
        aria_subjects=1,
        features=frozenset({Feature.ARIA}),
    ),
    Offer(
        OfferCode.ARIA_TOUTES_MATIERES,
        OfferKind.ARIA_ADDON,
        "ARIA toutes matières",
        tnd(120),
        "ARIA sur toutes les matières enseignées.",
        aria_subjects=-1,
        features=frozenset({Feature.ARIA}),
    ),
    _pack(
        OfferCode.GRAND_ORAL,
        "Pack Grand Oral",
        750,
        "Préparer l'épreuve du Grand Oral : 4 crédits de séances.",
        credits=4,
    ),
    _pack(
        OfferCode.BAC_FRANCAIS,
        "Pack Bac de Français",
        1200,
        "L'écrit et l'oral du bac de français : 6 crédits de séances.",
        credits=6,
    ),
    _pack(
        OfferCode.ORIENTATION,
        "Pack Orientation Parcoursup",
        900,
        "Construire son projet et son dossier Parcoursup : 3 crédits de séances.",
        credits=3,
    ),
    _credit_pack(OfferCode.CREDITS_5, credits=5, dinars=300),
    _credit_pack(OfferCode.CREDITS_10, credits=10, dinars=570),
    _credit_pack(OfferCode.CREDITS_20, credits=20, dinars=1080),
)

_BY_CODE = {offer.code: offer for offer in OFFERS}

# Credits per hour of session.
CREDIT_COSTS: dict[ServiceType, Decimal] = {
    ServiceType.COURS_ONLINE: Decimal("1"),
    ServiceType.COURS_PRESENTIEL: Decimal("1.25"),
    ServiceType.ATELIER_GROUPE: Decimal("1.5"),
}

# Subscription credits are carried one month beyond their month; pack credits last a year.
SUBSCRIPTION_CREDIT_VALIDITY_MONTHS = 2
PACK_CREDIT_VALIDITY = timedelta(days=365)
SUBSCRIPTION_PERIOD_MONTHS = 1

# Reference prices shown on /offres.
HOURLY_INDIVIDUAL_MILLIMES = tnd(60)
HOURLY_GROUP_MILLIMES = tnd(40)

ARIA_SUBJECTS_ALL = tuple(Subject)


def offer(code: OfferCode | str) -> Offer:
    """The offer for a code; KeyError for an unknown code (callers answer 404)."""
    return _BY_CODE[OfferCode(code)]


def find(code: str | None) -> Offer | None:
    try:
        return offer(code or "")
    except (KeyError, ValueError):
        return None


def offers_of(kind: OfferKind) -> list[Offer]:
    return [o for o in OFFERS if o.kind is kind]


def session_cost(service: ServiceType, minutes: int) -> Decimal:
    """Credits for a session: the hourly cost times its length, to the hundredth, half up
    (90 min in person: 1.875 -> 1.88), whatever the thread's decimal context says."""
    exact = CREDIT_COSTS[service] * Decimal(minutes) / Decimal(60)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def order_label(payment: Payment) -> str:
    """What a payment buys, for whom: "Pack 10 crédits pour Yasmine"."""
    chosen = offer(payment.offer_code)
    subject = f" — ARIA {Subject(payment.aria_subject).label}" if payment.aria_subject else ""
    return f"{chosen.name}{subject} pour {payment.student.user.first_name}"


@dataclass(frozen=True)
class StageOffer:
    """A holiday stage as an offer: its price is the stage's, set by staff (never by the browser).

    Paid by bank transfer with the reservation's reference; staff mark the reservation paid
    once the transfer is on the statement."""

    stage_id: int
    name: str
    price_millimes: int
    summary: str


def stage_offer(stage: Stage) -> StageOffer:
    subjects = ", ".join(stage.subject_labels)
    return StageOffer(
        stage.id,
        stage.title,
        stage.price_millimes,
        f"{stage.grade.label} — {subjects}",
    )
