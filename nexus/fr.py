"""French formatting, the only one: Tunis time, dates, money, credits and plurals.

Pages, e-mails and invoices (PDF included) all say an amount, a date or a count the same way.
Money: whole dinars without decimals ("450 TND"), otherwise three ("1 080,500 TND"), thousands
grouped by a narrow no-break space. Plurals are real: "1 crédit", "1,5 crédit", "2 crédits"
(French keeps the singular below two), never "crédit(s)".
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from nexus.clock import utcnow

TUNIS = ZoneInfo("Africa/Tunis")
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
NARROW_SPACE, NO_BREAK_SPACE = "\u202f", "\u00a0"


def local_today(now: datetime | None = None) -> date:
    """Today in Tunis (the centre's day, whatever the server's time zone)."""
    return (now or utcnow()).astimezone(TUNIS).date()


_BEFORE_SIGN = re.compile(r" ([:;?!»])")
_AFTER_QUOTE = re.compile(r"« ")


def typography(text: str) -> str:
    """French prose typography: a narrow no-break space before : ; ? ! » and after «, so a
    line never starts with the sign (texts are written with ordinary spaces). Not for code."""
    return _AFTER_QUOTE.sub("«\u202f", _BEFORE_SIGN.sub("\u202f\\1", text))


def score(value: float | None) -> str:
    """A score to the tenth, as the charts print it: 57.25 → '57,3', 50.0 → '50'."""
    if value is None:
        return "—"
    return number(Decimal(str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def percent(value: float | None, missing: str = "non évalué") -> str:
    """62 → '62 %' (a no-break space, so '%' never starts a line); None → 'non évalué'."""
    return missing if value is None else f"{round(value)}{NO_BREAK_SPACE}%"


def tnd(millimes: int | None) -> str:
    """1080500 → '1 080,500 TND'; whole amounts without decimals: '450 TND'."""
    if millimes is None:
        return "—"
    dinars, rest = divmod(abs(int(millimes)), 1000)
    text = f"{dinars:,}".replace(",", NARROW_SPACE)
    if rest:
        text += f",{rest:03d}"
    return ("-" if millimes < 0 else "") + text + NO_BREAK_SPACE + "TND"


def number(value: Decimal | int | None) -> str:
    """A credit amount to the hundredth, without useless zeros: 1.50 → '1,5'."""
    if value is None:
        return "0"
    return f"{Decimal(value):.2f}".rstrip("0").rstrip(".").replace(".", ",")


def plural(count: Decimal | int, singular: str, plural_form: str | None = None) -> str:
    """'1 virement à valider', '3 virements à valider', '1,5 crédit', '0 message'."""
    shown = number(count) if isinstance(count, Decimal) else str(count)
    return f"{shown} {agree(count, singular, plural_form)}"


def agree(count: Decimal | int, singular: str, plural_form: str | None = None) -> str:
    """The words alone, agreeing with the count (for a count shown apart, as in a KPI tile)."""
    return singular if abs(count) < 2 else (plural_form or _plural_of(singular))


def _plural_of(words: str) -> str:
    """Plural of the first word of a phrase: 'crédit disponible' → 'crédits disponible'."""
    first, _, rest = words.partition(" ")
    return f"{first}s {rest}".rstrip() if not first.endswith(("s", "x", "z")) else words


def credits(value: Decimal | int | None) -> str:
    """'1 crédit', '1,5 crédit', '2,25 crédits'."""
    return plural(Decimal(value or 0), "crédit")


def day(value: date) -> str:
    """'lundi 4 mars'."""
    return f"{DAYS[value.weekday()]} {value.day} {MONTHS[value.month - 1]}"


def when(at: datetime) -> str:
    """'lundi 4 mars 2030 à 14:00' in Tunis time."""
    local_at = at.astimezone(TUNIS)
    return f"{day(local_at.date())} {local_at.year} à {local_at:%H:%M}"


def hm(at: datetime) -> str:
    """'14:00' in Tunis time."""
    return at.astimezone(TUNIS).strftime("%H:%M")


def date_time(value: datetime | None) -> str:
    """'04/03/2030 à 14:00' in Tunis time."""
    return "—" if value is None else value.astimezone(TUNIS).strftime("%d/%m/%Y à %H:%M")


def short_date(value: date | datetime | None) -> str:
    """'04/03/2030' (a datetime is read in Tunis time)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(TUNIS).date()
    return value.strftime("%d/%m/%Y")


def time_spent(milliseconds: int) -> str:
    """How long someone worked: 'moins d'une minute', '12 min', '1 h 05'."""
    minutes = milliseconds // 60_000
    if minutes < 1:
        return "moins d'une minute"
    return f"{minutes} min" if minutes < 60 else duration(minutes)


def duration(minutes: int) -> str:
    """90 → '1 h 30', 60 → '1 h'."""
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"
