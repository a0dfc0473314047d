"""The centre's legal identity and invoice mentions: one row (id 1), edited by the admin.

Every new invoice copies them (the issuer block, the mentions, the droit de timbre), so an invoice
issued earlier keeps what it said then. Without the row (a fresh database before the seed), the
defaults below stand in: an invoice can always be issued.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert

from nexus.extensions import db
from nexus.models.operations import CentreSettings
from nexus.services import ServiceError, audit, command, locked
from nexus.text import check_line, check_size, check_text

SETTINGS_ID = 1
DEFAULT_LEGAL_NAME = "M&M Academy — Nexus Réussite"
DEFAULT_ADDRESS = "Résidence Narjess 2, Bloc D, Appt 12, Raoued 2056, Ariana, Tunisie"
DEFAULT_STAMP_MILLIMES = 1_000  # droit de timbre per invoice (Code des droits d'enregistrement et de timbre)
MAX_STAMP_MILLIMES = 100_000

# Matricule fiscal: 7 digits and a check letter (identifiant unique), then the TVA code (A, B, D, F,
# N, P), the category (M, C, P, N, E) and the 3-digit establishment number: 1234567A/A/M/000.
# Typed with or without slashes, spaces or dashes; kept as 1234567A/A/M/000.
_TAX_ID = re.compile(r"(\d{7})([A-Z])([ABDFNP])([MCPNE])(\d{3})")
TAX_ID_MESSAGE = (
    "Matricule fiscal invalide : 7 chiffres et une lettre, puis le code TVA, la catégorie "
    "et le n° d'établissement, par exemple 1234567A/A/M/000."
)
# Identifiant unique au RNE: the 7 digits and the check letter (the matricule fiscal's root).
_RNE = re.compile(r"\d{7}[A-Z]")
RNE_MESSAGE = "Identifiant RNE invalide : 7 chiffres et une lettre, par exemple 1234567A."


@dataclass(frozen=True)
class Settings:
    """What the admin edits (the form's values, already checked and normalised)."""

    legal_name: str
    address: str
    tax_id: str | None = None
    rne: str | None = None
    phone: str | None = None
    email: str | None = None
    stamp_applies: bool = False
    stamp_millimes: int = DEFAULT_STAMP_MILLIMES
    mentions: str | None = None


DEFAULTS = Settings(DEFAULT_LEGAL_NAME, DEFAULT_ADDRESS)


def normalise_tax_id(raw: str | None) -> str | None:
    """A matricule fiscal as 1234567A/A/M/000, None when blank; a French refusal otherwise."""
    compact = re.sub(r"[\s/.\-]", "", raw or "").upper()
    if not compact:
        return None
    found = _TAX_ID.fullmatch(compact) if compact.isascii() else None
    if found is None:
        raise ServiceError(TAX_ID_MESSAGE, field="tax_id")
    digits, key, tva, category, establishment = found.groups()
    return f"{digits}{key}/{tva}/{category}/{establishment}"


def normalise_rne(raw: str | None) -> str | None:
    compact = re.sub(r"[\s/.\-]", "", raw or "").upper()
    if not compact:
        return None
    if not (compact.isascii() and _RNE.fullmatch(compact)):
        raise ServiceError(RNE_MESSAGE, field="rne")
    return compact


def ensure_row() -> None:
    """The settings row with its defaults, unless it exists (the seed; a no-op when it does)."""
    db.session.execute(
        insert(CentreSettings)
        .values(id=SETTINGS_ID, legal_name=DEFAULT_LEGAL_NAME, address=DEFAULT_ADDRESS)
        .on_conflict_do_nothing(index_elements=["id"])
    )


def current() -> Settings:
    """The settings in force (the defaults when the row is missing)."""
    row = db.session.get(CentreSettings, SETTINGS_ID)
    return DEFAULTS if row is None else _of(row)


def _of(row: CentreSettings) -> Settings:
    return Settings(
        legal_name=row.legal_name,
        address=row.address,
        tax_id=row.tax_id,
        rne=row.rne,
        phone=row.phone,
        email=row.email,
        stamp_applies=bool(row.stamp_applies),
        stamp_millimes=DEFAULT_STAMP_MILLIMES if row.stamp_millimes is None else row.stamp_millimes,
        mentions=row.mentions,
    )


def contact_line(settings: Settings) -> str | None:
    """Phone and e-mail on one line, as the invoice prints them."""
    parts = [part for part in (settings.phone, settings.email) if part]
    return " — ".join(parts) or None


def issuer_fields() -> dict[str, Any]:
    """What a new invoice copies: the issuer block and the mentions."""
    settings = current()
    return {
        "issuer_name": settings.legal_name,
        "issuer_address": settings.address,
        "issuer_tax_id": settings.tax_id,
        "issuer_rne": settings.rne,
        "issuer_contact": contact_line(settings),
        "legal_mentions": settings.mentions,
    }


def stamp_millimes() -> int:
    """The droit de timbre a new invoice carries: the amount set, or 0 when it does not apply."""
    settings = current()
    return settings.stamp_millimes if settings.stamp_applies else 0


def _check(values: Settings) -> None:
    """What the form cannot see: one-line fields, sizes, the stamp's bounds."""
    if len(values.legal_name.strip()) < 2:
        raise ServiceError("Indiquez la raison sociale du centre.", field="legal_name")
    if len(values.address.strip()) < 5:
        raise ServiceError("Indiquez l'adresse du centre.", field="address")
    for name, limit in (("legal_name", 160), ("address", 300), ("phone", 40), ("email", 254)):
        check_line(getattr(values, name), name)
        check_size(getattr(values, name), name, limit)
    check_text(values.mentions, "mentions")
    check_size(values.mentions, "mentions", 1000)
    if not 0 <= values.stamp_millimes <= MAX_STAMP_MILLIMES:
        raise ServiceError("Un droit de timbre de 0 à 100 TND, par exemple 1,000.", field="stamp")


@command
def update(values: Settings, actor_id: int) -> Settings:
    """Save the settings (the row locked: two admins saving at once each see the other's), audited
    with the values before and after."""
    values = Settings(
        **{
            **asdict(values),
            "tax_id": normalise_tax_id(values.tax_id),
            "rne": normalise_rne(values.rne),
        }
    )
    _check(values)
    ensure_row()
    row = locked(CentreSettings, SETTINGS_ID)
    assert row is not None  # just ensured, and the row is never deleted
    before = asdict(_of(row))
    for name, value in asdict(values).items():
        setattr(row, name, value)
    row.updated_by_id = actor_id
    audit.record_changes("settings.updated", actor_id, row, before, asdict(values))
    return values
