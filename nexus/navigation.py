"""The sidebar of each role."""

from __future__ import annotations

from dataclasses import dataclass

from nexus.models.common import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str


_ASSISTANTE_DESK = [
    NavItem("Paiements", "/dashboard/assistante/paiements"),
    NavItem("Séances", "/dashboard/assistante/seances"),
    NavItem("Factures", "/dashboard/admin/factures"),
    NavItem("Élèves", "/dashboard/assistante/eleves"),
    NavItem("Coachs", "/dashboard/assistante/coachs"),
    NavItem("Crédits", "/dashboard/assistante/credits"),
    NavItem("Demandes de bilan", "/dashboard/assistante/bilans"),
    NavItem("Messages de contact", "/dashboard/assistante/contacts"),
    NavItem("Documents ARIA", "/dashboard/assistante/docs"),
]

NAV: dict[Role, list[NavItem]] = {
    Role.ADMIN: [
        NavItem("Tableau de bord", "/dashboard/admin"),
        NavItem("Utilisateurs", "/dashboard/admin/utilisateurs"),
        NavItem("Abonnements", "/dashboard/admin/abonnements"),
        NavItem("Statistiques ARIA", "/dashboard/admin/aria"),
        NavItem("Journal d'audit", "/dashboard/admin/audit"),
        *_ASSISTANTE_DESK,
    ],
    Role.ASSISTANTE: [
        NavItem("Tableau de bord", "/dashboard/assistante"),
        *_ASSISTANTE_DESK,
    ],
    Role.COACH: [
        NavItem("Tableau de bord", "/dashboard/coach"),
        NavItem("Mes séances", "/dashboard/coach/sessions"),
        NavItem("Disponibilités", "/dashboard/coach/availability"),
        NavItem("Agenda (iCal)", "/dashboard/calendrier"),
        NavItem("Mes élèves", "/dashboard/coach/eleves"),
        NavItem("Conversations ARIA", "/dashboard/coach/aria"),
    ],
    Role.PARENT: [
        NavItem("Tableau de bord", "/dashboard/parent"),
        NavItem("Mes enfants", "/dashboard/parent/enfants"),
        NavItem("Offres et abonnements", "/dashboard/parent/abonnements"),
        NavItem("Paiements et factures", "/dashboard/parent/paiements"),
        NavItem("Séances", "/dashboard/parent/sessions"),
        NavItem("Agenda (iCal)", "/dashboard/calendrier"),
        NavItem("ARIA", "/dashboard/parent/aria"),
        NavItem("Documents", "/dashboard/parent/ressources"),
    ],
    Role.ELEVE: [
        NavItem("Tableau de bord", "/dashboard/eleve"),
        NavItem("Réserver une séance", "/dashboard/eleve/sessions"),
        NavItem("Mes séances", "/dashboard/eleve/mes-sessions"),
        NavItem("Agenda (iCal)", "/dashboard/calendrier"),
        NavItem("ARIA", "/dashboard/eleve/aria"),
        NavItem("Mes crédits", "/dashboard/eleve/credits"),
        NavItem("Documents", "/dashboard/eleve/ressources"),
    ],
}


def items_for(role: Role) -> list[NavItem]:
    return NAV.get(role, [])
