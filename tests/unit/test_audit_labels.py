"""Every audited action has a French label, and recorded values read in French."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from nexus.models.audit import ACTIONS, AuditLog
from nexus.models.credits import RequestStatus

NEXUS = Path(__file__).resolve().parents[2] / "nexus"
DOMAINS = "|".join(
    [
        *("account", "auth", "bilan", "coach", "coach_pay", "contact", "credits", "document"),
        *("family", "invoice", "payment", "session", "workshop"),
    ]
)
ACTION_NAME = re.compile(rf"({DOMAINS})\.[a-z_]*[a-z]")  # not the head of an f-string


def _action_names_in_code() -> set[str]:
    """Every "domain.verb" string literal of the services (what audit.record is given), but the
    endpoint names handed to links.external/internal or url_for ("auth.activate")."""
    names, endpoints = set(), set()
    for path in (NEXUS / "services").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and ACTION_NAME.fullmatch(str(node.value)):
                names.add(node.value)
            elif isinstance(node, ast.Call) and node.args and _builds_a_link(node.func):
                endpoints.add(getattr(node.args[0], "value", None))
    return names - endpoints


def _builds_a_link(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in {"external", "internal", "url_for"}


def test_every_recorded_action_has_a_french_label() -> None:
    decided = {f"credits.request_{s.value.lower()}" for s in RequestStatus if s is not RequestStatus.PENDING}
    names = _action_names_in_code() | decided
    assert len(names) > 30  # the scan does see the services' actions
    assert sorted(names - ACTIONS.keys()) == []


def test_recorded_values_read_in_french() -> None:
    line = AuditLog(
        action="account.deactivated",
        object_type="users",
        object_id=7,
        before={"is_active": True, "status": "PENDING", "phone": None},
        after={"is_active": False, "status": "PAID", "phone": "+216 20 123 456", "role": "PARENT"},
    )
    assert line.action_label == "Compte désactivé"
    assert line.object_label == "Compte n° 7"
    assert line.changes == [
        ("Actif", "oui", "non"),
        ("Statut", "En attente", "Payée"),
        ("Téléphone", "—", "+216 20 123 456"),
        ("Rôle", None, "Parent"),
    ]


def test_an_unknown_action_still_shows_its_name() -> None:
    assert AuditLog(action="x.y").action_label == "x.y"
    assert AuditLog(action="x.y").object_label == "—"
