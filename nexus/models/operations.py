"""Running the centre: its settings (the invoice issuer and mentions) and the periodic jobs' runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from nexus.extensions import db
from nexus.models.common import updated_at


class CentreSettings(db.Model):
    """The centre's legal identity and invoice mentions: one row (id 1), edited by the admin."""

    __tablename__ = "centre_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("stamp_millimes >= 0", name="stamp_positive"),
        CheckConstraint("late_cancel_share BETWEEN 0 AND 100", name="late_cancel_share_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, server_default=text("1"))
    legal_name: Mapped[str] = mapped_column(String(160))
    address: Mapped[str] = mapped_column(String(300))
    tax_id: Mapped[str | None] = mapped_column(String(40))  # matricule fiscal
    rne: Mapped[str | None] = mapped_column(String(40))  # identifiant unique au RNE
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    # Droit de timbre on each invoice, when it applies (1 TND at the time of writing).
    stamp_applies: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    stamp_millimes: Mapped[int] = mapped_column(BigInteger, server_default=text("1000"))
    mentions: Mapped[str | None] = mapped_column(Text)  # printed at the foot of every invoice
    # Coach pay: whether a student's no-show is paid, and the share (%) of a late family cancellation.
    pay_no_show: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    late_cancel_share: Mapped[int] = mapped_column(Integer, server_default=text("50"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[updated_at]


class JobRun(db.Model):
    """The last run of each periodic job (one row per job, overwritten), for the operations page."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[bool | None] = mapped_column(Boolean)
    result: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(500))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    runs: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    failures: Mapped[int] = mapped_column(Integer, server_default=text("0"))
