"""Markdown from the LLM or the course material, rendered to safe HTML.

Two layers: markdown-it with raw HTML off (tags are shown as text), then the nh3 sanitiser with
a short allow-list: no attributes but href on links (http/https only, rel noopener nofollow), so
no hx-*, no on*, no style. Templates put the result inside an element with `hx-disable` so that
htmx ignores anything below it even if a tag slipped through.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from markupsafe import Markup

TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub",
}  # fmt: skip
ATTRIBUTES = {"a": {"href"}}


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def _headings_down(source: str) -> str:
    """Titles in an answer must not compete with the page's: # and ## become ###."""
    return re.sub(r"^(#{1,2})(?=\s)", "###", source, flags=re.MULTILINE)


def sanitize(html: str) -> str:
    import nh3

    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
        url_relative="deny",  # no links into the app itself: http(s) only
        strip_comments=True,
    )


CITATION = re.compile(r"\[(\d{1,2})\]")


def link_citations(html: str, numbers: set[int], anchor: str) -> str:
    """[n] becomes a link to source n of the answer (only for sources that exist)."""

    def replace(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in numbers:
            return match.group(0)
        return f'<a class="cite" href="#{anchor}-{n}">[{n}]</a>'

    parts = re.split(r"(<pre>.*?</pre>|<code>.*?</code>)", html, flags=re.DOTALL)
    return "".join(p if p.startswith(("<pre>", "<code>")) else CITATION.sub(replace, p) for p in parts)


def render_markdown(source: str, citations: set[int] | None = None, anchor: str = "src") -> Markup:
    html = sanitize(_parser().render(_headings_down(source or "")))
    if citations:
        html = link_citations(html, citations, anchor)
    return Markup(html)  # noqa: S704 - sanitised above; the citation links are ours
