"""Numbers typed by people (credits, TND amounts, quantities, days), parsed strictly.

Python's Decimal() and int() accept much more than anyone types: 'NaN', 'Infinity', '1e309',
'1_0', and digits of every script ('٣', '１'; int() even fails on '²' after isdigit() said yes).
Here a number is ASCII digits, with at most one decimal comma or point and a bounded number of
decimals and of digits; anything else is None, and the caller says in French what is expected.
"""

from __future__ import annotations

import re
from decimal import Decimal

MAX_TYPED = 32  # longer than any amount a person types: refused before any regex runs
# Thousands separators a French number may carry: space, no-break space, narrow no-break space.
_SEPARATORS = str.maketrans("", "", " \u00a0\u202f")


def parse_decimal(raw: str | None, *, places: int, max_digits: int) -> Decimal | None:
    """'1,5' -> Decimal('1.5'); at most max_digits before the point and places after it."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_TYPED or not text.isascii():
        return None
    decimals = rf"(?:[.,][0-9]{{1,{places}}})?" if places else ""
    if re.fullmatch(rf"[0-9]{{1,{max_digits}}}{decimals}", text) is None:
        return None
    return Decimal(text.replace(",", "."))


def parse_credits(raw: str | None) -> Decimal | None:
    """Credits as staff and parents type them: '2', '1,5', '0.25' (hundredths at most)."""
    return parse_decimal(raw, places=2, max_digits=4)


def parse_tnd(raw: str | None) -> int | None:
    """'450', '60,500' or '1 080,25' (TND, millimes at most) -> millimes; None otherwise."""
    if len(raw or "") > MAX_TYPED:
        return None
    amount = parse_decimal((raw or "").translate(_SEPARATORS), places=3, max_digits=7)
    return None if amount is None else int(amount * 1000)


def parse_count(raw: str | None, low: int, high: int) -> int | None:
    """A whole number between low and high ('007' is 7); None otherwise."""
    value = parse_decimal(raw, places=0, max_digits=len(str(high)) + 2)
    return int(value) if value is not None and low <= value <= high else None


def exact(amount: Decimal, places: int) -> bool:
    """A finite Decimal with at most `places` decimals (what a service accepts from code)."""
    return (
        isinstance(amount, Decimal)
        and amount.is_finite()
        and amount.as_tuple().exponent >= -places  # type: ignore[operator]
        and amount.adjusted() < 18  # far below any column, far above any real amount
    )
