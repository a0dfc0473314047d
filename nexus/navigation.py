"""The sidebar of each role, by endpoint: a URL changes in one place, its route."""

from __future__ import annotations

from dataclasses import dataclass

from nexus import links
from nexus.models.common import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str

    @property
    def path(self) -> str:
        """The entry's URL (needs an app context, not a request)."""
        return links.internal(self.endpoint)


_ASSISTANTE_DESK = [
    NavItem("Paiements", "payments.index"),
    NavItem("Séances", "sessions.staff_sessions"),
    NavItem("Factures", "invoices.index"),
    NavItem("Élèves", "staff.students"),
    NavItem("Coachs", "coaches.index"),
    NavItem("Rémunération", "coach_pay.staff_index"),
    NavItem("Crédits", "credits.desk"),
    NavItem("Demandes de bilan", "staff.bilans"),
    NavItem("Bilans générés", "bilans.staff_table"),
    NavItem("Tests de positionnement", "positioning.staff_index"),
    NavItem("Banque de questions", "item_bank.index"),
    NavItem("Stages", "stages.staff_index"),
    NavItem("Ateliers", "workshops.staff_index"),
    NavItem("Messages de contact", "staff.contacts"),
    NavItem("Alertes ARIA", "aria.alerts"),
    NavItem("Documents des familles", "documents.staff_index"),
    NavItem("Documents ARIA", "knowledge.docs"),
]

NAV: dict[Role, list[NavItem]] = {
    Role.ADMIN: [
        NavItem("Tableau de bord", "dashboard.admin"),
        NavItem("Analyses", "analytics.index"),
        NavItem("Messages", "messages.index"),
        NavItem("Utilisateurs", "admin.users"),
        NavItem("Abonnements", "admin.subscriptions"),
        NavItem("Statistiques ARIA", "aria.stats"),
        NavItem("Journal d'audit", "admin.audit_log"),
        NavItem("Paramètres du centre", "settings.centre"),
        NavItem("Santé de la plateforme", "operations.index"),
        *_ASSISTANTE_DESK,
    ],
    Role.ASSISTANTE: [
        NavItem("Tableau de bord", "dashboard.assistante"),
        NavItem("Messages", "messages.index"),
        *_ASSISTANTE_DESK,
    ],
    Role.COACH: [
        NavItem("Tableau de bord", "dashboard.coach"),
        NavItem("Messages", "messages.index"),
        NavItem("Mes séances", "coach.sessions"),
        NavItem("Ateliers", "workshops.coach_index"),
        NavItem("Disponibilités", "coach.availability_page"),
        NavItem("Agenda (iCal)", "sessions.calendar_page"),
        NavItem("Mes élèves", "coach.students"),
        NavItem("Rémunération", "coach_pay.coach_index"),
        NavItem("Conversations ARIA", "aria.coach_index"),
    ],
    Role.PARENT: [
        NavItem("Tableau de bord", "dashboard.parent"),
        NavItem("Messages", "messages.index"),
        NavItem("Mes enfants", "parent.children"),
        NavItem("Offres et abonnements", "parent.offers"),
        NavItem("Paiements et factures", "parent.payments"),
        NavItem("Séances", "sessions.parent_sessions"),
        NavItem("Ateliers", "workshops.parent_index"),
        NavItem("Agenda (iCal)", "sessions.calendar_page"),
        NavItem("ARIA", "aria.parent_index"),
        NavItem("Documents", "documents.parent_documents"),
        NavItem("Tests de positionnement", "positioning.parent_index"),
        NavItem("Trajectoires", "trajectories.children"),
    ],
    Role.ELEVE: [
        NavItem("Tableau de bord", "dashboard.eleve"),
        NavItem("Messages", "messages.index"),
        NavItem("Réserver une séance", "sessions.eleve_book"),
        NavItem("Mes séances", "sessions.eleve_sessions"),
        NavItem("Ateliers", "workshops.eleve_index"),
        NavItem("Agenda (iCal)", "sessions.calendar_page"),
        NavItem("ARIA", "aria.chat"),
        NavItem("Mes crédits", "credits.mine"),
        NavItem("Tests de positionnement", "positioning.mine"),
        NavItem("Ma trajectoire", "trajectories.mine"),
        NavItem("Documents", "documents.student_documents"),
    ],
}


def items_for(role: Role) -> list[NavItem]:
    return [*NAV.get(role, []), *_EVERYONE]


# Last in every role's menu (before "Notifications" and "Mon compte").
_EVERYONE = [NavItem("Préférences e-mail", "inbox.preferences_page")]
