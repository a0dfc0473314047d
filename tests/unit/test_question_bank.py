"""The question bank's files: every item valid, every domain of the programme present and full
enough for the adaptive test, formulas that render; the validator refuses broken items."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from nexus.question_bank import DOMAINS, FOLDERS, BankError, load_bank, render

MIN_PER_DOMAIN = 12


def test_every_domain_of_the_programme_has_enough_items_spread_from_easy_to_hard() -> None:
    bank = load_bank()
    found = {(d.subject, d.grade, d.key) for d in bank.domains}
    expected = {(s, g, key) for (s, g), keys in DOMAINS.items() for key in keys}
    assert found == expected
    per_domain = Counter((i.subject, i.grade, i.domain) for i in bank.items)
    for domain in expected:
        assert per_domain[domain] >= MIN_PER_DOMAIN, domain
        difficulties = [i.difficulty for i in bank.items if (i.subject, i.grade, i.domain) == domain]
        assert min(difficulties) <= -1.5 and max(difficulties) >= 1.5, domain


def test_right_answers_are_not_always_the_same_letter() -> None:
    letters = Counter(item.answer for item in load_bank().items)
    assert set(letters) == {0, 1, 2, 3}
    assert max(letters.values()) < 0.4 * sum(letters.values())


def test_formulas_become_mathml_and_text_is_escaped() -> None:
    html = render(r"Si $x^2 = 4$ alors <b>x</b> vaut `abs(x)`")
    assert "<math" in html and "<msup>" in html
    assert "&lt;b&gt;" in html and "<code>abs(x)</code>" in html
    code = render("```python\nprint('<')\n```")
    assert code.startswith("<pre><code>") and "&lt;" in code


def _bank_with(tmp_path: Path, item: str) -> Path:
    folder = tmp_path / FOLDERS[("MATHEMATIQUES", "PREMIERE")]
    folder.mkdir()
    (folder / "suites.toml").write_text(
        '[skills]\na = "Une"\nb = "Deux"\n\n[[items]]\nkey = "x-01"\nskill = "b"\ndifficulty = 0\n'
        "stem = '''Énoncé'''\nchoices = ['''1''', '''2''', '''3''', '''4''']\nanswer = \"A\"\n"
        "explanation = '''Parce que.'''\n\n" + item,
        encoding="utf-8",
    )
    return tmp_path


GOOD = (
    "[[items]]\nkey = \"x-02\"\nskill = \"a\"\ndifficulty = 1\nstem = '''Autre'''\n"
    "choices = ['''1''', '''2''', '''3''', '''4''']\nanswer = \"B\"\nexplanation = '''Oui.'''\n"
)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (GOOD.replace('answer = "B"', 'answer = "E"'), "lettre"),
        (GOOD.replace("'''4'''", "'''1'''"), "identiques"),
        (GOOD.replace('skill = "a"', 'skill = "z"'), "compétence inconnue"),
        (GOOD.replace("difficulty = 1", "difficulty = 9"), "difficulté"),
        (GOOD.replace("'''Autre'''", "'''Soit $\\frac{1}{ x'''"), "$"),
        (GOOD.replace('key = "x-02"', 'key = "x-01"'), "double"),
        (GOOD.replace('skill = "a"', 'skill = "b"'), "sans question"),
        (GOOD.replace("'''4'''", "'''Je ne sais pas'''"), "Je ne sais pas"),
    ],
)
def test_the_validator_refuses_a_broken_item(tmp_path: Path, broken: str, message: str) -> None:
    with pytest.raises(BankError, match=message):
        load_bank.__wrapped__(_bank_with(tmp_path, broken))


def test_a_valid_small_bank_loads(tmp_path: Path) -> None:
    bank = load_bank.__wrapped__(_bank_with(tmp_path, GOOD))
    assert [i.key for i in bank.items] == ["x-01", "x-02"] and bank.items[1].answer == 1


def test_french_punctuation_gets_a_narrow_no_break_space_outside_code() -> None:
    html = str(render("Combien vaut `a ? b` ? « Rien » : tout."))
    assert "<code>a ? b</code>" in html
    assert "\u202f?" in html and "«\u202fRien\u202f»\u202f:" in html
