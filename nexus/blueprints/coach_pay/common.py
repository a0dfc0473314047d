"""What the coach pay pages share: the blueprint, the statement loader, typed amounts and dates."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint
from flask_login import current_user

from nexus.models.coach_pay import CoachStatement
from nexus.numbers import MAX_TYPED, parse_tnd
from nexus.services import ServiceError, coach_pay
from nexus.web import or_404

bp = Blueprint("coach_pay", __name__)

AMOUNT_MESSAGE = "Un montant en TND, précédé de « - » pour une retenue : par exemple 25 ou -12,500."
_MINUS = ("-", "\u2212")  # the hyphen and the minus sign people paste
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TOTAL = re.compile(r"-?[0-9]{1,15}")


def statement_or_404(statement_id: int) -> CoachStatement:
    """The statement the signed-in person may read (staff: any; a coach: their own), else 404."""
    return or_404(coach_pay.statement_for(current_user, statement_id))


def parse_signed_tnd(raw: str | None, field: str = "amount") -> int:
    """'25', '+12,500', '-7,5' (TND) → signed millimes; zero or anything else refused in French."""
    text = (raw or "").strip()
    if len(text) > MAX_TYPED:
        raise ServiceError(AMOUNT_MESSAGE, field)
    sign = 1
    if text.startswith(("+", *_MINUS)):
        sign = -1 if text[0] in _MINUS else 1
        text = text[1:].lstrip()
    amount = parse_tnd(text)
    if amount is None:
        raise ServiceError(AMOUNT_MESSAGE, field)
    if amount == 0:
        raise ServiceError("Un ajustement de zéro ne change rien : indiquez un montant.", field)
    return sign * amount


def parse_day(raw: str | None, field: str) -> date:
    """A date typed in a date field (YYYY-MM-DD, ASCII digits), refused in French otherwise."""
    text = (raw or "").strip()
    try:
        if not _ISO_DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ServiceError("Indiquez une date au format JJ/MM/AAAA.", field) from None


def parse_total(raw: str | None) -> int | None:
    """The total the confirmation page showed (millimes), or None when it is not one."""
    text = (raw or "").strip()
    return int(text) if _TOTAL.fullmatch(text) else None
