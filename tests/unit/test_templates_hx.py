"""No user content inside an hx-* attribute (DESIGN.md, htmx conventions).

htmx reads these attributes as instructions (a confirm text, JSON values, a URL): a child's name
or a reason typed by a family has no place there. Expressions allowed inside them are URLs built
by url_for, the CSRF token, and values the server makes itself (references, amounts, labels).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "nexus" / "templates"
HX_ATTRIBUTE = re.compile(r"""\bhx-[a-z-]+=("[^"]*"|'[^']*')""")
EXPRESSION = re.compile(r"{{(.*?)}}")
# Server-made values: ids, a weekday number, generated references and amounts, enum labels,
# fixed French strings.
SERVER_MADE = re.compile(
    r"""^\s*([\w.]+\.id|d|url_for\(.*\)|csrf_token\(\)|p\.reference|(?:\w+\.)?invoice\.number|target\.label"""
    r"""|p\.amount_millimes\|tnd|r\.amount\|credits|r\.amount\|credit_count"""
    r"""|'[^'{}]*'\s+if\s+[\w.]+\s+else\s+'[^'{}]*')\s*$"""
)


@pytest.fixture(autouse=True)
def _isolation() -> Iterator[None]:
    """Overrides the conftest fixture: reading templates needs no database."""
    yield


@pytest.fixture(autouse=True)
def _clean_side_channels() -> None:
    """Overrides the conftest fixture: no Redis nor SMTP either."""


# The row-action macro puts its `url` and `confirm` parameters in hx-* attributes: what its callers
# pass is checked instead (test_row_actions_are_given_only_server_made_values).
MACRO_PARAMETERS = {"macros/rows.html": {"url", "confirm"}}
ROW_ACTION_ARGUMENT = re.compile(r"""row_action\((.*?)\)\s*(?:%}|}})""", re.S)


def hx_expressions() -> Iterator[tuple[str, str]]:
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = str(path.relative_to(TEMPLATES))
        for attribute in HX_ATTRIBUTE.finditer(path.read_text()):
            for expression in EXPRESSION.findall(attribute.group(1)):
                if expression.strip() not in MACRO_PARAMETERS.get(name, set()):
                    yield f"{name}: {attribute.group(0)[:60]}", expression


def test_the_walk_finds_hx_attributes():
    assert sum(1 for _ in hx_expressions()) > 10  # most row actions now go through macros/rows.html


def test_hx_attributes_carry_only_server_made_values():
    offending = [f"{where} -> {expr}" for where, expr in hx_expressions() if not SERVER_MADE.match(expr)]
    assert offending == []


def _confirm_parts(call: str) -> list[str]:
    """The pieces joined by ~ in row_action's confirm= argument ([] when there is none)."""
    found = re.search(r"""confirm=((?:"[^"]*"|'[^']*'|[^,"'])+)""", call)
    return [part.strip() for part in found.group(1).split("~")] if found else []


def test_row_actions_are_given_only_server_made_values():
    """A confirm text handed to row_action is fixed French, or built of server-made values only."""
    offending = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if str(path.relative_to(TEMPLATES)) in MACRO_PARAMETERS:
            continue  # the definition, not a call
        for call in ROW_ACTION_ARGUMENT.findall(path.read_text()):
            for part in _confirm_parts(call):
                if not re.fullmatch(r"""("[^"{}]*"|'[^'{}]*')""", part) and not SERVER_MADE.match(part):
                    offending.append(f"{path.relative_to(TEMPLATES)}: confirm part {part}")
    assert offending == []
