"""Page weight: gzip bytes of a first load (HTML + its CSS and JS) and of an htmx navigation."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from bench import benchmark
from bench.client import Session
from bench.context import DEMO_ACCOUNTS, Context
from bench.report import Table, kb, verdict

PUBLIC_PAGES = ("/", "/offres", "/equipe", "/plateforme-aria", "/contact", "/auth/signin")
FIRST_LOAD_TARGET = 30_000  # bytes, gzip, HTML + CSS + JS (DESIGN.md)
HTMX_NAV = {"HX-Request": "true", "HX-Boosted": "true"}


def gz(body: bytes) -> int:
    """Size once gzip-compressed at level 6, as nginx serves it."""
    return len(gzip.compress(body, compresslevel=6))


class AssetParser(HTMLParser):
    """Collects <link rel=stylesheet href> and <script src>."""

    def __init__(self) -> None:
        super().__init__()
        self.css: list[str] = []
        self.js: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "link" and "stylesheet" in values.get("rel", "").split() and values.get("href"):
            self.css.append(values["href"])
        elif tag == "script" and values.get("src"):
            self.js.append(values["src"])


@dataclass
class Weight:
    status: int
    html: int
    css: int
    js: int
    htmx_nav: int

    @property
    def first_load(self) -> int:
        return self.html + self.css + self.js


def asset_bytes(session: Session, page_url: str, refs: list[str], cache: dict[str, int]) -> int:
    """Sum of the gzip sizes of same-origin assets (fetched once per URL)."""
    total = 0
    for ref in refs:
        url = urljoin(page_url, ref)
        if urlsplit(url).netloc != urlsplit(session.base_url).netloc:
            raise RuntimeError(f"{page_url} loads {url} from another origin (no CDN allowed)")
        if url not in cache:
            cache[url] = gz(session.get(url).body)
        total += cache[url]
    return total


def measure(session: Session, path: str, cache: dict[str, int]) -> Weight:
    page = session.get(path)
    parser = AssetParser()
    parser.feed(page.text)
    url = session.url(path)
    css = asset_bytes(session, url, parser.css, cache)
    js = asset_bytes(session, url, parser.js, cache)
    nav = session.get(path, headers=HTMX_NAV)
    return Weight(page.status, gz(page.body), css, js, gz(nav.body))


def pages(ctx: Context) -> list[tuple[str, str, Session]]:
    """(label, path, session) for the public pages, then each demo role's dashboard."""
    anonymous = ctx.anonymous()
    rows = [(path, path, anonymous) for path in PUBLIC_PAGES]
    for account, (_, dashboard) in DEMO_ACCOUNTS.items():
        rows.append((f"{dashboard} ({account})", dashboard, ctx.signed_in(account)))
    return rows


@benchmark("weight", order=10, help="page weight: first load and htmx navigation, gzip")
def page_weight(ctx: Context) -> list[Table]:
    table = Table(
        "Page weight (gzip level 6, as nginx serves it)",
        ["page", "HTTP", "HTML", "CSS", "JS", "first load", "htmx nav", "≤ 30 KB"],
    )
    cache: dict[str, int] = {}
    for label, path, session in pages(ctx):
        w = measure(session, path, cache)
        table.add(
            label,
            w.status,
            kb(w.html),
            kb(w.css),
            kb(w.js),
            kb(w.first_load),
            kb(w.htmx_nav),
            verdict(w.first_load <= FIRST_LOAD_TARGET),
        )
    table.notes += [
        "first load = HTML + each <link rel=stylesheet> and <script src>, gzipped; headers not counted.",
        "htmx nav = the same URL with HX-Request + HX-Boosted: the HTML only (CSS/JS already cached).",
        "1 KB = 1000 bytes. Target: first load ≤ 30 KB (htmx alone ≈ 17 KB; a bare Next.js page ≈ 110 KB).",
    ]
    return [table]
