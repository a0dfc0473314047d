"""Parents and the students they are responsible for."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, SmallInteger, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import Grade, created_at, email_type, enum_type, intpk
from nexus.models.identity import User


class ParentProfile(db.Model):
    __tablename__ = "parent_profiles"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    address: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(80))
    country: Mapped[str] = mapped_column(String(80), server_default="Tunisie")
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship()
    children: Mapped[list[Student]] = relationship(back_populates="parent", order_by="Student.id")
    co_parents: Mapped[list[CoParent]] = relationship(back_populates="profile", order_by="CoParent.id")

    @property
    def guardians(self) -> list[User]:
        """Every parent of the family: the one who opened it, then the co-parents."""
        return [self.user, *(c.user for c in self.co_parents)]


class CoParent(db.Model):
    """A second parent with their own account and the same rights on the family's children."""

    __tablename__ = "co_parents"

    id: Mapped[intpk]
    profile_id: Mapped[int] = mapped_column(ForeignKey("parent_profiles.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[created_at]

    profile: Mapped[ParentProfile] = relationship(back_populates="co_parents")
    user: Mapped[User] = relationship()


class Student(db.Model):
    """The student record; its user (role ELEVE) signs in once activated."""

    __tablename__ = "students"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parent_profiles.id", ondelete="RESTRICT"), index=True)
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    school: Mapped[str | None] = mapped_column(String(120))
    birth_date: Mapped[date | None] = mapped_column(Date)
    # ARIA may use the latest test's level and weak skills: None until the student answered the
    # notice that says so.
    aria_uses_results: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship()
    parent: Mapped[ParentProfile] = relationship(back_populates="children")

    @property
    def full_name(self) -> str:
        return self.user.full_name


class FamilySignup(db.Model):
    """A family's sign-up waiting for the parent to open the link e-mailed to them.

    No account exists before that: an address is never reserved by someone who cannot read its
    mail, and the family is created whole, in one transaction, when the link is used.
    """

    __tablename__ = "family_signups"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(email_type(), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    # [{"first_name", "last_name", "grade", "email"}], as typed (validated by the form).
    children: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    bilan_request_id: Mapped[int | None] = mapped_column(ForeignKey("bilan_requests.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    renewals: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
