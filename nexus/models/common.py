"""Column helpers and the enums shared by several domains."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from sqlalchemy import BigInteger, DateTime, Enum, String, func
from sqlalchemy.orm import mapped_column

from nexus.clock import utcnow

# Integer ids: the booking exclusion constraints turn ids into one-point int8 ranges.
intpk = Annotated[int, mapped_column(BigInteger, primary_key=True)]
# The app's clock for rows it writes (nexus.clock); the database's now() for rows written by hand.
created_at = Annotated[
    datetime,
    mapped_column(DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=False),
]
updated_at = Annotated[
    datetime,
    mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), onupdate=utcnow, nullable=False
    ),
]
tstz = Annotated[datetime, mapped_column(DateTime(timezone=True))]


def enum_type(enum_cls: type[enum.Enum]) -> Enum:
    """A VARCHAR with a CHECK constraint: enums without ALTER TYPE pains in migrations."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=32,
        name=enum_cls.__name__.lower(),
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )


def email_type() -> String:
    return String(254)


class LabelledEnum(str, enum.Enum):
    """A string enum whose members carry a French label for display."""

    label: str

    def __new__(cls, value: str, label: str = "") -> LabelledEnum:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label or value
        return obj

    def __str__(self) -> str:
        return self.value

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Role(LabelledEnum):
    ADMIN = "ADMIN", "Administrateur"
    ASSISTANTE = "ASSISTANTE", "Assistante"
    COACH = "COACH", "Coach"
    PARENT = "PARENT", "Parent"
    ELEVE = "ELEVE", "Élève"

    @property
    def slug(self) -> str:
        """Path segment of the role's dashboard (/dashboard/<slug>)."""
        return self.value.lower()


class Subject(LabelledEnum):
    MATHEMATIQUES = "MATHEMATIQUES", "Mathématiques"
    NSI = "NSI", "NSI"
    FRANCAIS = "FRANCAIS", "Français"
    PHILOSOPHIE = "PHILOSOPHIE", "Philosophie"
    HISTOIRE_GEO = "HISTOIRE_GEO", "Histoire-géographie"
    ANGLAIS = "ANGLAIS", "Anglais"
    ESPAGNOL = "ESPAGNOL", "Espagnol"
    PHYSIQUE_CHIMIE = "PHYSIQUE_CHIMIE", "Physique-chimie"
    SVT = "SVT", "SVT"
    SES = "SES", "SES"


class Grade(LabelledEnum):
    SECONDE = "SECONDE", "Seconde"
    PREMIERE = "PREMIERE", "Première"
    TERMINALE = "TERMINALE", "Terminale"


def subjects_check(column: str) -> str:
    """SQL for a CHECK that an array column only holds known subjects."""
    values = ",".join(f"'{s.value}'" for s in Subject)
    return f"{column} <@ ARRAY[{values}]::varchar[]"


__all__ = [
    "Grade",
    "LabelledEnum",
    "Role",
    "Subject",
    "created_at",
    "email_type",
    "enum_type",
    "func",
    "intpk",
    "subjects_check",
    "tstz",
    "updated_at",
]
