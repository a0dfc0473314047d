"""Who did what, when: staff actions, sign-ins, changes of state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import LabelledEnum, created_at, intpk
from nexus.models.identity import User


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_created", "created_at"),
    )

    id: Mapped[intpk]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))  # "payment.approve", "auth.signin" …
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigInteger)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ip: Mapped[str | None] = mapped_column(INET)
    created_at: Mapped[created_at]

    actor: Mapped[User | None] = relationship(lazy="joined")

    @property
    def action_label(self) -> str:
        """The action in French ("Virement validé"); the raw name only for an unknown action."""
        return ACTIONS.get(self.action, self.action)

    @property
    def object_label(self) -> str:
        if not self.object_type:
            return "—"
        return f"{OBJECTS.get(self.object_type, 'Objet')} n° {self.object_id}"

    @property
    def changes(self) -> list[tuple[str, str | None, str | None]]:
        """(field, before, after) in French, for each field the line recorded."""
        before, after = self.before or {}, self.after or {}
        keys = list(dict.fromkeys([*before, *after]))
        return [
            (
                FIELDS.get(key, key.replace("_", " ")),
                _value(key, before[key]) if key in before else None,
                _value(key, after[key]) if key in after else None,
            )
            for key in keys
        ]


ACTIONS = {
    "account.activated": "Compte activé",
    "account.activation_renewed": "Lien d'activation renouvelé",
    "account.activation_resent": "Lien d'activation renvoyé",
    "account.activation_sent": "Lien d'activation envoyé",
    "account.anonymised": "Compte supprimé (anonymisé)",
    "account.created": "Compte créé",
    "account.deactivated": "Compte désactivé",
    "account.email_change_cancelled": "Changement d'adresse annulé",
    "account.email_change_requested": "Changement d'adresse demandé",
    "account.email_changed": "Adresse e-mail changée",
    "account.reactivated": "Compte réactivé",
    "account.updated": "Compte modifié",
    "aria.alert_acknowledged": "Alerte ARIA prise en charge",
    "auth.password_changed": "Mot de passe modifié",
    "auth.password_reset": "Mot de passe réinitialisé",
    "auth.reset_requested": "Réinitialisation demandée",
    "auth.signin": "Connexion",
    "bilan.family_opened": "Bilan : espace famille ouvert",
    "bilan.linked_by_signup": "Bilan rattaché à l'inscription",
    "bilan.links_revoked": "Bilan : liens révoqués et renvoyés",
    "bilan.retried": "Bilan : génération relancée",
    "bilan.status_changed": "Bilan : statut modifié",
    "coach.created": "Coach créé",
    "coach.invitation_sent": "Invitation coach envoyée",
    "coach.updated": "Coach modifié",
    "coach_pay.adjusted": "Relevé de rémunération : ajustement",
    "coach_pay.rate_set": "Tarif horaire d'un coach fixé",
    "coach_pay.settings_updated": "Règles de rémunération des coachs modifiées",
    "coach_pay.validated": "Relevé de rémunération validé",
    "contact.family_opened": "Message : espace famille ouvert",
    "contact.handled": "Message de contact traité",
    "credits.manual_deduct": "Crédits retirés à la main",
    "credits.manual_grant": "Crédits ajoutés à la main",
    "credits.request_approved": "Demande de crédits accordée",
    "credits.request_rejected": "Demande de crédits refusée",
    "document.deleted": "Document supprimé",
    "document.reindexed": "Document réindexé",
    "document.uploaded": "Document déposé",
    "export.csv": "Export CSV d'un tableau",
    "family.child_added": "Enfant ajouté",
    "family.child_removed": "Enfant retiré",
    "family.child_updated": "Enfant modifié",
    "family.co_parent_invitation_cancelled": "Invitation du second parent annulée",
    "family.co_parent_invited": "Second parent invité",
    "family.co_parent_link_renewed": "Lien du second parent renouvelé",
    "family.opened": "Espace famille ouvert",
    "invoice.status": "Facture : statut modifié",
    "invoice.details_applied": "Facture : coordonnées de l'entreprise appliquées",
    "invoice.details_refused": "Facture : demande de coordonnées refusée",
    "messages.staff_read": "Conversation lue par l'équipe (protection des mineurs)",
    "messages.assigned": "Conversation attribuée",
    "messages.handled": "Conversation traitée",
    "messages.reopened": "Conversation rouverte",
    "messages.contact_answered": "Message de contact : réponse depuis la messagerie",
    "messages.bilan_answered": "Demande de bilan : réponse depuis la messagerie",
    "messages.reported": "Message signalé",
    "messages.report_handled": "Signalement traité",
    "outbox.discarded": "E-mail en échec abandonné",
    "outbox.retried": "E-mail en échec renvoyé",
    "outbox.test_sent": "E-mail de test envoyé",
    "payment.approve": "Virement validé",
    "payment.card_checked": "Paiement par carte vérifié auprès de la banque",
    "payment.card_failed": "Paiement par carte non abouti",
    "payment.card_started": "Paiement par carte commencé",
    "payment.declared": "Virement déclaré",
    "payment.reject": "Virement refusé",
    "session.cancelled": "Séance annulée",
    "settings.updated": "Paramètres du centre modifiés",
    "subscription.edit": "Abonnement modifié à la main",
    "stage.created": "Stage créé",
    "stage.reservation_status": "Stage : statut d'une réservation modifié",
    "stage.updated": "Stage modifié",
    "test.assign": "Test de positionnement attribué",
    "trajectory.created": "Trajectoire créée",
    "trajectory.updated": "Trajectoire modifiée",
    "trajectory.status": "Trajectoire : état modifié",
    "trajectory.milestone_ticked": "Trajectoire : étape cochée",
    "trajectory.milestone_unticked": "Trajectoire : étape décochée",
    "vault.filed": "Document déposé dans un espace famille",
    "vault.removed": "Document retiré d'un espace famille",
    "workshop.created": "Atelier créé",
    "workshop.cancelled": "Atelier annulé",
}
OBJECTS = {
    "users": "Compte",
    "assessments": "Test de positionnement",
    "students": "Élève",
    "parent_profiles": "Famille",
    "coach_profiles": "Coach",
    "coach_rates": "Tarif de coach",
    "coach_statements": "Relevé de rémunération",
    "payments": "Paiement",
    "invoices": "Facture",
    "centre_settings": "Paramètres du centre",
    "credit_lots": "Lot de crédits",
    "credit_requests": "Demande de crédits",
    "subscriptions": "Abonnement",
    "bilan_requests": "Demande de bilan",
    "bilans": "Bilan généré",
    "contact_messages": "Message de contact",
    "message_threads": "Conversation",
    "message_reports": "Signalement de message",
    "session_bookings": "Séance",
    "documents": "Document",
    "user_documents": "Document",
    "stages": "Stage",
    "stage_reservations": "Réservation de stage",
    "aria_alerts": "Alerte ARIA",
    "outbox_emails": "E-mail",
    "trajectories": "Trajectoire",
    "trajectory_milestones": "Étape de trajectoire",
}
FIELDS = {
    "account": "Compte",
    "student": "Élève",
    "amount": "Montant",
    "amount_millimes": "Montant (millimes)",
    "available_in_person": "Au centre",
    "available_online": "En ligne",
    "by": "Par",
    "children": "Enfants",
    "description": "Présentation",
    "email": "E-mail",
    "email_subject": "Objet de l'e-mail",
    "to": "Destinataire",
    "error_code": "Code d'erreur",
    "expertise": "Expertise",
    "expires_at": "Expire le",
    "table": "Tableau",  # an export's table, and its filters (the query string's names)
    "filters": "Filtres",
    "q": "Recherche",
    "filtre": "Afficher",
    "statut": "Statut",
    "stage": "Stage n°",
    "action": "Type d'action",
    "first_name": "Prénom",
    "grade": "Classe",
    "handled_at": "Traité le",
    "assignee_id": "Attribuée au compte n°",
    "thread_id": "Conversation n°",
    "contact_id": "Message de contact n°",
    "bilan_id": "Demande de bilan n°",
    "invoice": "Facture",
    "is_active": "Actif",
    "last_name": "Nom",
    "level": "Niveau",
    "link_version": "Version des liens",
    "offer": "Offre",
    "parent_user_id": "Compte parent n°",
    "phone": "Téléphone",
    "philosophy": "Approche",
    "pseudonym": "Pseudonyme",
    "reason": "Motif",
    "refunded": "Crédits rendus",
    "role": "Rôle",
    "size": "Taille (octets)",
    "status": "Statut",
    "student_id": "Élève n°",
    "subject": "Matière",
    "subjects": "Matières",
    "tag": "Accroche",
    "title": "Titre",
    "with_parent": "Avec le parent",
    "starts_on": "Premier jour",
    "ends_on": "Dernier jour",
    "price_millimes": "Prix (millimes)",
    "seats": "Places",
    "published": "Publié",
    "stage_id": "Stage n°",
    "reference": "Référence",
    "target_level": "Niveau visé",
    "target_ssn": "SSN visé",
    "horizon_months": "Horizon (mois)",
    "agreed": "Convenue avec la famille",
    "milestones": "Étapes",
    "acknowledged_at": "Prise en charge le",
    "card_status": "État chez la banque",
    "rights": "Droits mis à jour",
    "legal_name": "Raison sociale",
    "address": "Adresse",
    "tax_id": "Matricule fiscal",
    "rne": "Identifiant RNE",
    "stamp_applies": "Droit de timbre appliqué",
    "stamp_millimes": "Droit de timbre (millimes)",
    "mentions": "Mentions de facture",
    "customer_name": "Client",
    "customer_tax_id": "Matricule fiscal du client",
    "customer_address": "Adresse du client",
    "kind": "Type de document",
    "owner": "Espace du compte n°",
    "file": "Fichier",
    "hourly_millimes": "Tarif horaire (millimes)",
    "modality": "Modalité",
    "effective_from": "À partir du",
    "coach_id": "Coach n°",
    "pay_no_show": "Absences de l'élève payées",
    "late_cancel_share": "Part payée d'une annulation tardive (%)",
    "total_millimes": "Total (millimes)",
    "number": "Numéro",
    "month": "Mois",
    "coach": "Coach",
    "starts_at": "Début",
}
# hold enum names
ENUM_FIELDS = {"grade", "kind", "level", "modality", "offer", "role", "status", "subject", "subjects"}
WORDS = {"staff": "l'équipe", "sign-up": "inscription en ligne"}


def _labels() -> dict[str, str]:
    """Every enum value of the schema → its French label ("PAID" → "Payée")."""
    found: dict[str, str] = {}
    for enum_class in _enum_classes(LabelledEnum):
        for member in enum_class:
            found.setdefault(member.value, member.label)
    return found


def _enum_classes(base: type) -> list[type]:
    subclasses = base.__subclasses__()
    return [cls for sub in subclasses for cls in [sub, *_enum_classes(sub)]]


def _value(key: str, value: Any) -> str:
    """A recorded value as a reader says it: oui/non, —, labels instead of enum names."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(_value(key, item) for item in value)
    if isinstance(value, dict):  # an export's filters: « Recherche : dupont, Afficher : tous »
        return ", ".join(f"{FIELDS.get(k, k)} : {_value(k, v)}" for k, v in value.items()) or "—"
    if isinstance(value, str):
        if key.endswith("_at") and len(value) >= 16 and value[4] == "-":
            return value[:16].replace("T", " à ")
        if key in ENUM_FIELDS:
            return _enum_labels().get(value, value)
        return WORDS.get(value, value)
    return str(value)


_LABELS: dict[str, str] = {}


def _enum_labels() -> dict[str, str]:
    if not _LABELS:  # built on first use, once every model module is imported
        _LABELS.update(_labels())
    return _LABELS
