"""Text extraction: the paragraphs of a PDF, Markdown or text file, with their heading path and page."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from nexus.models.knowledge import SourceType
from nexus.services import ServiceError

EXTENSIONS = {".pdf": SourceType.PDF, ".md": SourceType.MARKDOWN, ".markdown": SourceType.MARKDOWN}
EXTENSIONS[".txt"] = SourceType.TEXT


class IngestionError(ServiceError):
    """The file cannot be indexed; the message is shown to staff."""


@dataclass(frozen=True)
class Block:
    """A paragraph (or list, or code block) with the heading path above it and its page."""

    section: str | None
    page: int | None
    text: str


def source_type_of(filename: str, data: bytes) -> SourceType:
    kind = EXTENSIONS.get(Path(filename).suffix.lower())
    if kind is None:
        raise IngestionError(
            "Format non pris en charge : envoyez un PDF, un fichier Markdown (.md) ou texte (.txt)."
        )
    if (kind is SourceType.PDF) != data.startswith(b"%PDF-"):
        raise IngestionError("Le contenu du fichier ne correspond pas à son extension.")
    return kind


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# Controls (but tab and line feed) and bidirectional overrides: invisible in a course text,
# refused by PostgreSQL (NUL), able to reorder what a student reads. Line breaks become line feeds.
_INVISIBLE: dict[int, str | None] = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)], None
)
_INVISIBLE |= dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], None)
_INVISIBLE |= {0x0D: "\n", 0x2028: "\n", 0x2029: "\n\n"}


def plain_text(value: str) -> str:
    """Extracted text without invisible control characters, with line feeds as its only breaks."""
    return value.replace("\r\n", "\n").translate(_INVISIBLE)


def extract(data: bytes, kind: SourceType) -> list[Block]:
    if kind is SourceType.PDF:
        return _pdf_blocks(data)
    body = split_front_matter(plain_text(decode_text(data)))[1]
    return _markdown_blocks(body) if kind is SourceType.MARKDOWN else _paragraphs(body, None, None)


def split_front_matter(content: str) -> tuple[dict[str, str], str]:
    """`---` / `key: value` lines / `---` at the top of a Markdown file, and the rest."""
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", content, flags=re.DOTALL)
    if not match:
        return {}, content
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, content[match.end() :]


def _clean(value: str) -> str:
    """Without NUL (PostgreSQL refuses it) and outer blank lines; indentation is kept."""
    return value.replace("\x00", "").strip("\n\r\t ").rstrip()


def _paragraphs(body: str, section: str | None, page: int | None, *, reflow: bool = False) -> list[Block]:
    blocks = []
    for part in re.split(r"\n\s*\n", body):
        part = _clean(part)
        if reflow:  # PDF line breaks are layout, not meaning
            part = re.sub(r"-\n(?=\w)", "", part)
            part = re.sub(r"\s*\n\s*", " ", part)
        if part:
            blocks.append(Block(section, page, part))
    return blocks


HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
CODE_BLANK = "\x01"  # not whitespace for the paragraph split, and never in real text


def _markdown_blocks(body: str) -> list[Block]:
    """Paragraphs under their heading path (level-1 headings are the document title)."""
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    lines: list[str] = []
    in_code = False

    def flush() -> None:
        section = " › ".join(title for level, title in headings if level > 1) or None
        blocks.extend(_paragraphs("\n".join(lines), section, None))
        lines.clear()

    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        heading = None if in_code else HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            headings = [h for h in headings if h[0] < level] + [(level, heading.group(2))]
        elif in_code and not line.strip():
            lines.append(CODE_BLANK)  # a blank line inside code must not end the block
        else:
            lines.append(line)
    flush()
    return [Block(b.section, b.page, b.text.replace(CODE_BLANK, "")) for b in blocks]


def _pdf_blocks(data: bytes) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise IngestionError(
                "Ce PDF est protégé par un mot de passe : envoyez une version sans protection."
            )
        pages = [(number, page.extract_text() or "") for number, page in enumerate(reader.pages, start=1)]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise IngestionError("Ce PDF est illisible ou endommagé.") from exc
    blocks = []
    for number, content in pages:
        blocks.extend(_paragraphs(plain_text(content), None, number, reflow=True))
    return blocks
