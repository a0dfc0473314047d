"""Subscriptions, entitlements, payments and invoices. Money is in millimes (1 TND = 1000)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.catalog import Feature, OfferCode
from nexus.models.common import (
    LabelledEnum,
    created_at,
    email_type,
    enum_type,
    intpk,
    subjects_check,
    updated_at,
)
from nexus.models.family import Student
from nexus.models.identity import User


class SubscriptionStatus(LabelledEnum):
    ACTIVE = "ACTIVE", "Active"
    INACTIVE = "INACTIVE", "Inactive"
    CANCELLED = "CANCELLED", "Résiliée"
    EXPIRED = "EXPIRED", "Expirée"


class Subscription(db.Model):
    """A student's monthly plan; at most one ACTIVE per student."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index(
            "uq_subscriptions_one_active",
            "student_id",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
        ),
        CheckConstraint(subjects_check("aria_subjects"), name="known_subjects"),
        CheckConstraint("monthly_price_millimes >= 0", name="price_positive"),
    )

    id: Mapped[intpk]
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    plan: Mapped[OfferCode] = mapped_column(enum_type(OfferCode))
    status: Mapped[SubscriptionStatus] = mapped_column(enum_type(SubscriptionStatus))
    monthly_price_millimes: Mapped[int] = mapped_column(BigInteger)
    credits_per_month: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    aria_subjects: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), server_default=text("'{}'::varchar[]")
    )
    current_period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    student: Mapped[Student] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status is SubscriptionStatus.ACTIVE


class EntitlementStatus(LabelledEnum):
    ACTIVE = "ACTIVE", "Actif"
    SUSPENDED = "SUSPENDED", "Suspendu"
    EXPIRED = "EXPIRED", "Expiré"
    REVOKED = "REVOKED", "Révoqué"


class Entitlement(db.Model):
    """What a student may use (the beneficiary is always the student, never the payer)."""

    __tablename__ = "entitlements"
    __table_args__ = (
        Index("ix_entitlements_student_status", "student_id", "status"),
        CheckConstraint("(feature = 'ARIA') = (subject IS NOT NULL)", name="aria_has_subject"),
    )

    id: Mapped[intpk]
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"))
    feature: Mapped[Feature] = mapped_column(enum_type(Feature))
    subject: Mapped[str | None] = mapped_column(String(32))
    offer_code: Mapped[OfferCode] = mapped_column(enum_type(OfferCode))
    status: Mapped[EntitlementStatus] = mapped_column(enum_type(EntitlementStatus))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="SET NULL"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="SET NULL"))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspend_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[created_at]


class PaymentMethod(LabelledEnum):
    BANK_TRANSFER = "BANK_TRANSFER", "Virement bancaire"
    CLICTOPAY = "CLICTOPAY", "Carte bancaire (ClicToPay)"
    CASH = "CASH", "Espèces"
    CHEQUE = "CHEQUE", "Chèque"


class PaymentStatus(LabelledEnum):
    PENDING = "PENDING", "En attente"
    COMPLETED = "COMPLETED", "Validé"
    FAILED = "FAILED", "Refusé"
    REFUNDED = "REFUNDED", "Remboursé"


class Payment(db.Model):
    """One order paid by a parent for one child; the amount is computed by the server."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_millimes > 0", name="amount_positive"),
        # A second declaration of the same order while one is pending is refused.
        Index(
            "uq_payments_one_pending_order",
            "student_id",
            "offer_code",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
        ),
        Index(
            "uq_payments_external_id",
            "method",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index("ix_payments_status_declared", "status", "declared_at"),
    )

    id: Mapped[intpk]
    payer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="RESTRICT"))
    offer_code: Mapped[OfferCode] = mapped_column(enum_type(OfferCode))
    aria_subject: Mapped[str | None] = mapped_column(String(32))
    amount_millimes: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), server_default="TND")
    method: Mapped[PaymentMethod] = mapped_column(enum_type(PaymentMethod))
    status: Mapped[PaymentStatus] = mapped_column(enum_type(PaymentStatus))
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(64))
    gateway_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    declared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    # When the reconciliation job last asked the card gateway about this order.
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    payer: Mapped[User] = relationship(foreign_keys=[payer_id])
    student: Mapped[Student] = relationship()

    @hybrid_property
    def is_pending(self) -> bool:
        """Declared, or sent to the bank, and not settled yet (in SQL too: Payment.is_pending)."""
        return self.status == PaymentStatus.PENDING

    @property
    def is_completed(self) -> bool:
        return self.status is PaymentStatus.COMPLETED

    @property
    def is_failed(self) -> bool:
        return self.status is PaymentStatus.FAILED

    @property
    def is_bank_transfer(self) -> bool:
        return self.method is PaymentMethod.BANK_TRANSFER


class InvoiceStatus(LabelledEnum):
    DRAFT = "DRAFT", "Brouillon"
    SENT = "SENT", "Envoyée"
    PAID = "PAID", "Payée"
    CANCELLED = "CANCELLED", "Annulée"


# The invoice state machine: DRAFT → SENT → PAID, DRAFT/SENT → CANCELLED; PAID and CANCELLED are
# final. services.invoices.change_status enforces it; the invoice page offers what it allows.
TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    InvoiceStatus.DRAFT: frozenset({InvoiceStatus.SENT, InvoiceStatus.CANCELLED}),
    InvoiceStatus.SENT: frozenset({InvoiceStatus.PAID, InvoiceStatus.CANCELLED}),
}


class TaxRegime(LabelledEnum):
    TVA_INCLUSE = "TVA_INCLUSE", "TVA incluse"
    TVA_NON_APPLICABLE = "TVA_NON_APPLICABLE", "TVA non applicable"
    EXONERATION = "EXONERATION", "Exonération"


class Invoice(db.Model):
    """Numbered YYYYMM-#### with no gap; scoped to its beneficiary user, not to an e-mail."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(
            "total_millimes = subtotal_millimes - discount_millimes + tax_millimes + stamp_millimes",
            name="total_consistent",
        ),
        CheckConstraint("total_millimes >= 0", name="total_positive"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[InvoiceStatus] = mapped_column(enum_type(InvoiceStatus))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    beneficiary_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"))
    payment_id: Mapped[int | None] = mapped_column(
        ForeignKey("payments.id", ondelete="SET NULL"), unique=True
    )
    customer_name: Mapped[str] = mapped_column(String(160))
    customer_email: Mapped[str | None] = mapped_column(email_type())
    customer_address: Mapped[str | None] = mapped_column(String(300))
    customer_tax_id: Mapped[str | None] = mapped_column(String(40))
    issuer_name: Mapped[str] = mapped_column(String(160))
    issuer_address: Mapped[str] = mapped_column(String(300))
    issuer_tax_id: Mapped[str | None] = mapped_column(String(40))
    # The issuer's identity and the legal mentions, copied from the centre's settings at issue.
    issuer_rne: Mapped[str | None] = mapped_column(String(40))
    issuer_contact: Mapped[str | None] = mapped_column(String(200))
    legal_mentions: Mapped[str | None] = mapped_column(Text)
    subtotal_millimes: Mapped[int] = mapped_column(BigInteger)
    discount_millimes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    tax_millimes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    # Droit de timbre fiscal, when the settings say it applies.
    stamp_millimes: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    total_millimes: Mapped[int] = mapped_column(BigInteger)
    tax_regime: Mapped[TaxRegime] = mapped_column(enum_type(TaxRegime))
    payment_method: Mapped[PaymentMethod | None] = mapped_column(enum_type(PaymentMethod))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_amount_millimes: Mapped[int | None] = mapped_column(BigInteger)
    payment_reference: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pdf_path: Mapped[str | None] = mapped_column(String(255))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    items: Mapped[list[InvoiceItem]] = relationship(
        order_by="InvoiceItem.sort_order", cascade="all, delete-orphan"
    )
    events: Mapped[list[InvoiceEvent]] = relationship(
        order_by="InvoiceEvent.id", cascade="all, delete-orphan"
    )

    @property
    def next_statuses(self) -> frozenset[InvoiceStatus]:
        return TRANSITIONS.get(self.status, frozenset())

    @property
    def can_send(self) -> bool:
        """A draft, once checked, can be marked as sent."""
        return InvoiceStatus.SENT in self.next_statuses

    @property
    def can_mark_paid(self) -> bool:
        return InvoiceStatus.PAID in self.next_statuses

    @property
    def can_cancel(self) -> bool:
        return InvoiceStatus.CANCELLED in self.next_statuses

    @property
    def is_closed(self) -> bool:
        """Paid or cancelled: nothing can change it any more."""
        return not self.next_statuses

    @property
    def is_paid(self) -> bool:
        """Paid: it has a receipt."""
        return self.status is InvoiceStatus.PAID

    @property
    def can_email_link(self) -> bool:
        """A sent or paid invoice with a customer address can be e-mailed as a 72-hour link."""
        return self.status in (InvoiceStatus.SENT, InvoiceStatus.PAID) and bool(self.customer_email)


class InvoiceItem(db.Model):
    __tablename__ = "invoice_items"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("total_millimes = qty * unit_price_millimes", name="line_total"),
    )

    id: Mapped[intpk]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(160))
    description: Mapped[str | None] = mapped_column(String(500))
    offer_code: Mapped[OfferCode | None] = mapped_column(enum_type(OfferCode))
    qty: Mapped[int] = mapped_column(Integer)
    unit_price_millimes: Mapped[int] = mapped_column(BigInteger)
    total_millimes: Mapped[int] = mapped_column(BigInteger)
    sort_order: Mapped[int] = mapped_column(Integer, server_default=text("0"))


INVOICE_EVENT_LABELS = {
    "INVOICE_CREATED": "Facture créée",
    "INVOICE_DRAFT": "Remise en brouillon",
    "INVOICE_SENT": "Marquée comme envoyée",
    "INVOICE_PAID": "Marquée comme payée",
    "INVOICE_CANCELLED": "Annulée",
    "INVOICE_SENT_EMAIL": "Lien envoyé par e-mail",
    "PDF_RENDERED": "PDF généré",
    "TOKENS_REVOKED": "Liens e-mail révoqués",
    "DETAILS_APPLIED": "Coordonnées de l'entreprise appliquées (demande de la famille)",
}


def _label(enum_cls: type[LabelledEnum], value: object) -> str | None:
    """The French label of a value stored in a JSON detail (the raw value if unknown)."""
    if not value:
        return None
    try:
        return enum_cls(value).label
    except ValueError:
        return str(value)


class InvoiceEvent(db.Model):
    """Append-only log of what happened to an invoice."""

    __tablename__ = "invoice_events"

    id: Mapped[intpk]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[created_at]

    @property
    def label(self) -> str:
        return INVOICE_EVENT_LABELS.get(self.kind, self.kind)

    @property
    def method_label(self) -> str | None:
        """The payment method recorded with the event, in French."""
        return _label(PaymentMethod, (self.details or {}).get("method"))

    @property
    def before_label(self) -> str | None:
        """The status the invoice left, in French."""
        return _label(InvoiceStatus, (self.details or {}).get("before"))

    @property
    def recipient(self) -> str | None:
        return (self.details or {}).get("to")


class InvoiceSequence(db.Model):
    """Per-month counter, bumped with INSERT … ON CONFLICT DO UPDATE … RETURNING."""

    __tablename__ = "invoice_sequences"

    year_month: Mapped[int] = mapped_column(Integer, primary_key=True)
    current: Mapped[int] = mapped_column(Integer)


class InvoiceAccessToken(db.Model):
    """An e-mailed link to one invoice: SHA-256 stored, 72 h, revocable."""

    __tablename__ = "invoice_access_tokens"

    id: Mapped[intpk]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
