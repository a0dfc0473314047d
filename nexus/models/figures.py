"""Monthly rollups of the closed months' figures (admin home, analytics): one generic row per
(month, metric, keys), recomputed by a periodic job; the current month is always read live."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from nexus.extensions import db


class FigureRollup(db.Model):
    """One aggregate of one Tunis calendar month, e.g. ('revenue.amount', offer code, '')."""

    __tablename__ = "figure_rollups"

    month: Mapped[date] = mapped_column(Date, primary_key=True)  # first day, Tunis time
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    key1: Mapped[str] = mapped_column(String(80), primary_key=True, server_default=text("''"))
    key2: Mapped[str] = mapped_column(String(80), primary_key=True, server_default=text("''"))
    value: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
