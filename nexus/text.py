"""Text typed by people: no control character on one line, none but line breaks and tabs in a text.

A line break in a name ends up in an e-mail header; bidi overrides reorder what staff read.
WTForms fields get these checks from nexus.forms; services check what views parse by hand.
"""

from __future__ import annotations

import unicodedata

from nexus.services import ServiceError

ONE_LINE = "Ce champ ne peut contenir ni retour à la ligne ni caractère invisible de contrôle."
TEXT = "Ce texte contient un caractère invisible de contrôle : retirez-le."
# Bidirectional embeddings, overrides and isolates.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
TEXT_BREAKS = frozenset("\n\r\t\u2028\u2029")


def is_control(char: str) -> bool:
    """C0/C1 controls, line and paragraph separators, and bidi overrides."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS


def has_control(value: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(is_control(char) and char not in allowed for char in value)


def line_problem(value: str | None) -> str | None:
    """The French reason a single-line value is refused, or None."""
    return ONE_LINE if value and has_control(value) else None


def text_problem(value: str | None) -> str | None:
    """The French reason a multi-line text is refused, or None."""
    return TEXT if value and has_control(value, TEXT_BREAKS) else None


def check_line(value: str | None, field: str) -> None:
    problem = line_problem(value)
    if problem:
        raise ServiceError(problem, field=field)


def check_text(value: str | None, field: str) -> None:
    problem = text_problem(value)
    if problem:
        raise ServiceError(problem, field=field)


def check_size(value: str | None, field: str, limit: int) -> None:
    """Refuse a typed text longer than its column, rather than cut it silently (or fail on it)."""
    if value and len(value) > limit:
        raise ServiceError(f"{limit} caractères au plus.", field=field)
