"""French wording: real plurals, durations, days (the formats themselves: test_formatting)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from nexus import fr


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1"), "1 crédit"),
        (Decimal("1.5"), "1,5 crédit"),
        (Decimal("2"), "2 crédits"),
        (Decimal("2.25"), "2,25 crédits"),
        (Decimal("0"), "0 crédit"),
        (Decimal("-3"), "-3 crédits"),
        (None, "0 crédit"),
    ],
)
def test_credits_say_their_number(value: Decimal | None, text: str) -> None:
    assert fr.credits(value) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 virement à valider"),
        (1, "1 virement à valider"),
        (3, "3 virements à valider"),
    ],
)
def test_plural_of_a_phrase(count: int, text: str) -> None:
    assert fr.plural(count, "virement à valider") == text


def test_irregular_plurals_are_given() -> None:
    assert fr.plural(2, "nouvelle demande", "nouvelles demandes") == "2 nouvelles demandes"
    assert fr.plural(2, "coach", "coachs") == "2 coachs"
    assert fr.plural(4, "cours") == "4 cours"


def test_days_durations_and_times_in_tunis() -> None:
    at = datetime(2030, 3, 4, 13, 0, tzinfo=UTC)
    assert fr.when(at) == "lundi 4 mars 2030 à 14:00"
    assert fr.hm(at) == "14:00"
    assert fr.day(date(2030, 8, 15)) == "jeudi 15 août"
    assert fr.duration(90) == "1 h 30"
    assert fr.duration(60) == "1 h"


def test_today_is_the_tunis_day() -> None:
    assert fr.local_today(datetime(2030, 3, 4, 23, 30, tzinfo=UTC)) == date(2030, 3, 5)


def test_the_words_alone_agree_with_their_count() -> None:
    assert fr.agree(1, "virement à valider") == "virement à valider"
    assert fr.agree(0, "message à traiter") == "message à traiter"
    assert fr.agree(3, "message à traiter") == "messages à traiter"
    assert fr.agree(2, "bilan gratuit reçu", "bilans gratuits reçus") == "bilans gratuits reçus"


def test_time_spent_reads_like_a_person_would_say_it() -> None:
    from nexus import fr

    assert fr.time_spent(30_000) == "moins d'une minute"
    assert fr.time_spent(12 * 60_000 + 59_000) == "12 min"
    assert fr.time_spent(65 * 60_000) == "1 h 05"
    assert fr.percent(61.6) == "62\u00a0%" and fr.percent(None) == "non évalué"
