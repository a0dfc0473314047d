"""Template filters: money in TND, credits, dates in Africa/Tunis."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from nexus.fr import date_time as local_dt
from nexus.fr import number as credits_fmt
from nexus.fr import short_date as local_date
from nexus.fr import tnd
from nexus.web import subject_label

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize(
    ("millimes", "text"),
    [
        (450_000, f"450{NBSP}TND"),
        (1_080_000, f"1{NNBSP}080{NBSP}TND"),
        (1_080_500, f"1{NNBSP}080,500{NBSP}TND"),
        (50, f"0,050{NBSP}TND"),
        (0, f"0{NBSP}TND"),
        (-300_000, f"-300{NBSP}TND"),
        (1_234_567_890, f"1{NNBSP}234{NNBSP}567,890{NBSP}TND"),
    ],
)
def test_tnd(millimes, text):
    assert tnd(millimes) == text


def test_tnd_of_nothing():
    assert tnd(None) == "—"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("4"), "4"),
        (Decimal("4.00"), "4"),
        (Decimal("1.25"), "1,25"),
        (Decimal("1.50"), "1,5"),
        (Decimal("1.875"), "1,88"),
        (Decimal("-0.5"), "-0,5"),
        (0, "0"),
        (None, "0"),
        (20, "20"),
    ],
)
def test_credits(value, text):
    assert credits_fmt(value) == text


def test_datetimes_are_shown_in_tunis_time():
    # Tunisia is UTC+1 all year (no daylight saving time).
    assert local_dt(datetime(2026, 1, 15, 13, 5, tzinfo=UTC)) == "15/01/2026 à 14:05"
    assert local_dt(datetime(2026, 7, 15, 13, 5, tzinfo=UTC)) == "15/07/2026 à 14:05"
    assert local_dt(None) == "—"


def test_dates_follow_the_tunis_day():
    assert local_date(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)) == "01/04/2026"
    assert local_date(date(2026, 3, 31)) == "31/03/2026"
    assert local_date(None) == "—"


def test_subject_labels():
    assert subject_label("MATHEMATIQUES") == "Mathématiques"
    assert subject_label("HISTOIRE_GEO") == "Histoire-géographie"
    assert subject_label("INCONNU") == "INCONNU"
