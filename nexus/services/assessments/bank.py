"""The question bank in the database: loaded from the TOML files, idempotently."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.assessments import Item
from nexus.models.common import Grade, Subject
from nexus.question_bank import Bank, BankItem, load_bank
from nexus.services import command


@dataclass(frozen=True)
class SyncReport:
    added: int
    updated: int
    retired: int
    unchanged: int


def _content(item: BankItem) -> dict[str, object]:
    return {
        "subject": Subject(item.subject),
        "grade": Grade(item.grade),
        "domain": item.domain,
        "skill": item.skill,
        "stem": item.stem,
        "choices": list(item.choices),
        "answer": item.answer,
        "explanation": item.explanation,
    }


def _update(row: Item, item: BankItem) -> bool:
    """Bring a row to the file's content; True if anything changed."""
    changed = False
    for name, value in _content(item).items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if row.prior_difficulty != item.difficulty:
        row.prior_difficulty = item.difficulty
        if row.calibrated_at is None:  # a calibrated difficulty rests on answers: it stays
            row.difficulty = item.difficulty
        changed = True
    if not row.active:
        row.active = changed = True
    return changed


@command
def sync_bank(bank: Bank | None = None) -> SyncReport:
    """Insert new items, update edited ones, retire those no longer in the files (never delete:
    answers refer to them). Running it twice changes nothing the second time."""
    bank = bank or load_bank()
    rows = {row.key: row for row in db.session.scalars(select(Item).with_for_update())}
    added = updated = unchanged = 0
    for item in bank.items:
        row = rows.pop(item.key, None)
        if row is None:
            db.session.add(
                Item(
                    key=item.key,
                    prior_difficulty=item.difficulty,
                    difficulty=item.difficulty,
                    **_content(item),
                )
            )
            added += 1
        elif _update(row, item):
            updated += 1
        else:
            unchanged += 1
    retired = 0
    for row in rows.values():
        if row.active:
            row.active = False
            retired += 1
    return SyncReport(added, updated, retired, unchanged)
