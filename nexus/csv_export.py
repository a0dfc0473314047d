"""CSV downloads that open correctly in French Excel and LibreOffice, streamed row by row.

French conventions: UTF-8 with a byte-order mark (Excel reads the accents), ";" between cells
(the comma is the decimal sign), decimal comma without thousands separator (so a spreadsheet reads
a number, not text), dates as JJ/MM/AAAA HH:MM in Tunis time, yes/no as "oui"/"non", enums by
their French label. A cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) is
prefixed with an apostrophe. Rows are written in chunks as they come from the database
(server-side cursor), so memory stays flat whatever the number of rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Response, stream_with_context

from nexus.fr import TUNIS
from nexus.models.common import LabelledEnum

BOM = "\ufeff"
SEPARATOR = ";"
CHUNK_ROWS = 500
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Millimes(int):
    """An amount in millimes, written in dinars with three decimals ("1234,500")."""


def cell(value: Any) -> str:
    """One value as a French spreadsheet reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, Millimes):
        sign = "-" if value < 0 else ""
        return f"{sign}{abs(value) // 1000},{abs(value) % 1000:03d}"
    if isinstance(value, LabelledEnum):
        return value.label
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        return (
            format(value, "f").replace(".", ",")
            if isinstance(value, Decimal)
            else f"{value:.2f}".replace(".", ",")
        )
    if isinstance(value, datetime):
        return value.astimezone(TUNIS).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text: the BOM and header first, then rows in chunks of CHUNK_ROWS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow(header)
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([cell(value) for value in row])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A streamed CSV download named `filename` (ASCII fallback plus the UTF-8 name)."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "export.csv"
    result = Response(stream_with_context(lines(header, rows)), mimetype="text/csv")
    result.headers["Content-Type"] = "text/csv; charset=utf-8"
    result.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    result.headers["Cache-Control"] = "private, no-store"
    return result
