"""Care around billing: the notices before a plan lapses, and invoice-details requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.billing import Invoice, Subscription
from nexus.models.common import LabelledEnum, created_at, enum_type, intpk


class LapseNoticeKind(LabelledEnum):
    DAYS_7 = "DAYS_7", "7 jours avant l'échéance"
    DAYS_1 = "DAYS_1", "La veille de l'échéance"
    LAPSED = "LAPSED", "Formule échue"


class SubscriptionNotice(db.Model):
    """One notice sent to the family about a subscription's period end.

    Unique per subscription, kind and period end: sent once, and sent again for the next period
    after a renewal moved the end."""

    __tablename__ = "subscription_notices"
    __table_args__ = (
        UniqueConstraint("subscription_id", "kind", "period_end", name="uq_subscription_notices_once"),
    )

    id: Mapped[intpk]
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    kind: Mapped[LapseNoticeKind] = mapped_column(enum_type(LapseNoticeKind))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    subscription: Mapped[Subscription] = relationship()


class DetailsRequestStatus(LabelledEnum):
    PENDING = "PENDING", "À traiter"
    APPLIED = "APPLIED", "Appliquée"
    REFUSED = "REFUSED", "Refusée"


class InvoiceDetailsRequest(db.Model):
    """A family asks that an invoice carry a company's name and tax id; staff apply or refuse."""

    __tablename__ = "invoice_details_requests"
    __table_args__ = (
        Index(
            "uq_invoice_details_requests_one_pending",
            "invoice_id",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
        ),
        Index("ix_invoice_details_requests_status", "status", "created_at"),
    )

    id: Mapped[intpk]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    company_name: Mapped[str] = mapped_column(String(160))
    tax_id: Mapped[str] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[DetailsRequestStatus] = mapped_column(enum_type(DetailsRequestStatus))
    refusal_reason: Mapped[str | None] = mapped_column(String(500))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[created_at]

    invoice: Mapped[Invoice] = relationship()
