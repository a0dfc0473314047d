"""The question bank for staff: its items by bank, domain and calibration state, and the
answers each rests on (how many, how often right, which choice)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from nexus import question_bank
from nexus.extensions import db
from nexus.models.assessments import Item, Response
from nexus.models.common import Grade, Subject
from nexus.services.paging import Page, matches, paginate

BANKS: dict[str, tuple[str, str]] = {folder: key for key, folder in question_bank.FOLDERS.items()}
STATES = {
    "toutes": "Toutes",
    "calibrees": "Calibrées",
    "a-calibrer": "Pas encore calibrées",
    "retirees": "Retirées des fichiers",
}
PER_PAGE = 50


@dataclass(frozen=True)
class ItemStats:
    """Every answer given to an item so far (any test): the staff's view of how it behaves."""

    answers: int = 0  # shown and answered, "je ne sais pas" included
    attempted: int = 0  # a letter chosen
    correct: int = 0
    by_choice: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def skipped(self) -> int:
        return self.answers - self.attempted

    @property
    def success(self) -> int | None:
        """Percent right among the attempted answers, or None without any."""
        return round(100 * self.correct / self.attempted) if self.attempted else None


def bank_label(subject: str, grade: str) -> str:
    return f"{Subject(subject).label} — {Grade(grade).label}"


def domain_options(bank: str | None) -> list[tuple[str, str]]:
    """(value "folder/domain", label) for a bank, or for all banks (labels then name the bank)."""
    options = []
    for folder, (subject, grade) in BANKS.items():
        if bank and folder != bank:
            continue
        for key, label in question_bank.DOMAINS[(subject, grade)].items():
            options.append((f"{folder}/{key}", label if bank else f"{bank_label(subject, grade)} · {label}"))
    return options


def search_items(args: Mapping[str, str], page: int) -> Page[Item]:
    """Items by bank, domain, state and text (key, statement), in the bank's order."""
    stmt = select(Item).order_by(Item.subject, Item.grade, Item.domain, Item.prior_difficulty, Item.key)
    bank = BANKS.get(args.get("banque", ""))
    folder, _, domain = args.get("domaine", "").partition("/")
    if folder in BANKS and (bank is None or BANKS[folder] == bank):
        bank = BANKS[folder]
        stmt = stmt.where(Item.domain == domain)
    if bank is not None:
        stmt = stmt.where(Item.subject == Subject(bank[0]), Item.grade == Grade(bank[1]))
    state = args.get("etat", "")
    if state == "calibrees":
        stmt = stmt.where(Item.calibrated_at.is_not(None))
    elif state == "a-calibrer":
        stmt = stmt.where(Item.calibrated_at.is_(None), Item.active.is_(True))
    elif state == "retirees":
        stmt = stmt.where(Item.active.is_(False))
    query = args.get("q", "")
    if query.strip():
        stmt = stmt.where(matches(query, Item.key, Item.stem))
    return paginate(stmt, page, PER_PAGE)


def item_stats(item_ids: Sequence[int]) -> dict[int, ItemStats]:
    """The answers to these items, counted in one query."""
    if not item_ids:
        return {}
    attempted = Response.choice.is_not(None)
    columns = [
        Response.item_id,
        func.count(),
        func.count(Response.choice),
        func.count().filter(attempted, Response.correct.is_(True)),
        *(func.count().filter(Response.choice == letter) for letter in range(4)),
    ]
    rows = db.session.execute(
        select(*columns).where(Response.item_id.in_(item_ids)).group_by(Response.item_id)
    ).all()
    return {row[0]: ItemStats(row[1], row[2], row[3], tuple(row[4:8])) for row in rows}


def get_item(item_id: int) -> Item | None:
    return db.session.get(Item, item_id)


def domain_label(item: Item) -> str:
    return question_bank.DOMAINS.get((item.subject.value, item.grade.value), {}).get(item.domain, item.domain)


def labels_of(item: Item) -> tuple[str, str]:
    """The item's domain and skill as the programme names them (the key when unknown)."""
    subject, grade = item.subject.value, item.grade.value
    domain = domain_label(item)
    try:
        found = question_bank.load_bank().domain(subject, grade, item.domain)
    except question_bank.BankError:  # a file being edited: the keys will do
        found = None
    return domain, (found.skills.get(item.skill, item.skill) if found else item.skill)


@dataclass(frozen=True)
class BankSummary:
    folder: str
    label: str
    items: int  # asked in tests (active)
    calibrated: int
    answers: int  # every answer to its items, "je ne sais pas" included
    last_calibration: datetime | None


def bank_summaries() -> list[BankSummary]:
    """One line per bank for the top of the staff page."""
    items = {
        (row.subject.value, row.grade.value): row
        for row in db.session.execute(
            select(
                Item.subject,
                Item.grade,
                func.count().filter(Item.active.is_(True)).label("items"),
                func.count(Item.calibrated_at).label("calibrated"),
                func.max(Item.calibrated_at).label("last"),
            ).group_by(Item.subject, Item.grade)
        )
    }
    answers = {
        (subject.value, grade.value): count
        for subject, grade, count in db.session.execute(
            select(Item.subject, Item.grade, func.count())
            .join(Response, Response.item_id == Item.id)
            .group_by(Item.subject, Item.grade)
        )
    }
    summaries = []
    for folder, key in BANKS.items():
        row = items.get(key)
        summaries.append(
            BankSummary(
                folder,
                bank_label(*key),
                row.items if row else 0,
                row.calibrated if row else 0,
                answers.get(key, 0),
                row.last if row else None,
            )
        )
    return summaries
