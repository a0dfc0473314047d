"""Tables printed by `make bench` (and optionally saved as JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: Any) -> None:
        self.rows.append(list(cells))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def kb(size: float) -> str:
    """Bytes as kilobytes (1 KB = 1000 bytes), one decimal."""
    return f"{size / 1000:.1f} KB"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "OVER"


def _is_number(cell: str) -> bool:
    return bool(cell) and (cell[0].isdigit() or cell[0] in "+-.")


def render(table: Table) -> str:
    """A plain-text table: numbers right-aligned, text left-aligned."""
    cells = [[str(c) for c in row] for row in table.rows]
    widths = [len(c) for c in table.columns]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if _is_number(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [table.title, "=" * len(table.title), line(table.columns), rule, *map(line, cells)]
    out.extend(f"  {note}" for note in table.notes)
    return "\n".join(out) + "\n"
