"""Parents and the students they are responsible for."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexus.extensions import db
from nexus.models.common import Grade, created_at, enum_type, intpk
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


class Student(db.Model):
    """The student record; its user (role ELEVE) signs in once activated."""

    __tablename__ = "students"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parent_profiles.id", ondelete="RESTRICT"), index=True)
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    school: Mapped[str | None] = mapped_column(String(120))
    birth_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship()
    parent: Mapped[ParentProfile] = relationship(back_populates="children")

    @property
    def full_name(self) -> str:
        return self.user.full_name
