"""Chunking: paragraphs grouped into passages of about TARGET_CHARS, within one section and page."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nexus.services.knowledge.extraction import Block

TARGET_CHARS = 900  # a chunk: a few paragraphs of one section
MAX_CHARS = 1400


@dataclass(frozen=True)
class Draft:
    section: str | None
    page: int | None
    content: str


def _split_long(content: str) -> list[str]:
    """A paragraph longer than MAX_CHARS, cut between sentences (or words, as a last resort)."""
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?;:])\s+", content):
        while len(sentence) > MAX_CHARS:
            cut = sentence.rfind(" ", 0, MAX_CHARS)
            cut = cut if cut > 0 else MAX_CHARS
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > TARGET_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def chunk(blocks: Sequence[Block]) -> list[Draft]:
    """Consecutive paragraphs of one section (and page) grouped up to about TARGET_CHARS."""
    drafts: list[Draft] = []
    parts: list[str] = []
    where: tuple[str | None, int | None] | None = None

    def flush() -> None:
        if parts and where is not None:
            drafts.append(Draft(where[0], where[1], "\n\n".join(parts)))
        parts.clear()

    for block in blocks:
        pieces = [block.text] if len(block.text) <= MAX_CHARS else _split_long(block.text)
        for piece in pieces:
            size = sum(len(p) + 2 for p in parts)
            if (block.section, block.page) != where or (parts and size + len(piece) > TARGET_CHARS):
                flush()
                where = (block.section, block.page)
            parts.append(piece)
    flush()
    return drafts


def embedding_text(title: str, section: str | None, content: str) -> str:
    """What is embedded for a chunk: its place in the course helps as much as its words."""
    head = f"{title} — {section}" if section else title
    return f"{head}\n{content}"
