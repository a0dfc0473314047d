"""Offer codes and kinds; prices and credits live in nexus.services.catalog."""

from __future__ import annotations

from nexus.models.common import LabelledEnum


class OfferKind(LabelledEnum):
    PLAN = "PLAN", "Formule mensuelle"
    ARIA_ADDON = "ARIA_ADDON", "Option ARIA"
    PACK = "PACK", "Pack spécifique"
    CREDIT_PACK = "CREDIT_PACK", "Pack de crédits"

    @property
    def plural(self) -> str:
        """The heading of a group of offers of this kind."""
        return _KIND_PLURALS[self]

    @property
    def is_plan(self) -> bool:
        return self is OfferKind.PLAN

    @property
    def is_aria_addon(self) -> bool:
        """An ARIA option: it is added to an active plan, never bought alone."""
        return self is OfferKind.ARIA_ADDON


_KIND_PLURALS = {
    OfferKind.PLAN: "Formules mensuelles",
    OfferKind.ARIA_ADDON: "Options ARIA",
    OfferKind.PACK: "Packs spécifiques",
    OfferKind.CREDIT_PACK: "Packs de crédits",
}


class OfferCode(LabelledEnum):
    ACCES_PLATEFORME = "ACCES_PLATEFORME", "Accès Plateforme"
    HYBRIDE = "HYBRIDE", "Hybride"
    IMMERSION = "IMMERSION", "Immersion"
    ARIA_MATIERE = "ARIA_MATIERE", "ARIA +1 matière"
    ARIA_TOUTES_MATIERES = "ARIA_TOUTES_MATIERES", "ARIA toutes matières"
    GRAND_ORAL = "GRAND_ORAL", "Pack Grand Oral"
    BAC_FRANCAIS = "BAC_FRANCAIS", "Pack Bac de Français"
    ORIENTATION = "ORIENTATION", "Pack Orientation Parcoursup"
    CREDITS_5 = "CREDITS_5", "Pack 5 crédits"
    CREDITS_10 = "CREDITS_10", "Pack 10 crédits"
    CREDITS_20 = "CREDITS_20", "Pack 20 crédits"


class ServiceType(LabelledEnum):
    """What a session is; its credit cost per hour comes from the catalog."""

    COURS_ONLINE = "COURS_ONLINE", "Cours en ligne"
    COURS_PRESENTIEL = "COURS_PRESENTIEL", "Cours en présentiel"
    ATELIER_GROUPE = "ATELIER_GROUPE", "Atelier en groupe"


class Feature(LabelledEnum):
    PLATFORM_ACCESS = "PLATFORM_ACCESS", "Accès à la plateforme"
    CREDITS_USE = "CREDITS_USE", "Réservation de séances avec crédits"
    ARIA = "ARIA", "ARIA (par matière)"
    REFERENT_COACH = "REFERENT_COACH", "Coach référent"
    PRIORITY_SUPPORT = "PRIORITY_SUPPORT", "Support prioritaire"
    QUARTERLY_BILAN = "QUARTERLY_BILAN", "Bilan trimestriel"
    INTENSIVE_FOLLOWUP = "INTENSIVE_FOLLOWUP", "Suivi intensif"
