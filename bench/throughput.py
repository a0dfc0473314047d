"""Throughput: requests per second and p50/p99 latency against gunicorn (gthread, 2 workers).

The family homes are measured as whole page loads: one load is the page, then each lazy panel
the page asks for (its `hx-get` with `hx-trigger="load"`/`"revealed"`, sent as htmx sends it),
one after the other on one keep-alive connection; its latency is that of the whole load.
"""

from __future__ import annotations

import html
import http.client
import os
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from bench import benchmark, loadgen
from bench.client import Session
from bench.context import Context
from bench.report import Table, ms, verdict

WARMUP_REQUESTS = 30
SHARE_TARGET = 0.5  # a home load keeps at least half the sign-in page's throughput
P99_TARGET = 0.100  # seconds, for the whole load
LAZY_TAG = re.compile(r"<[^>]*\bhx-trigger=\"(?:load|revealed)\b[^>]*>")
HX_GET = re.compile(r"\bhx-get=\"([^\"]+)\"")
HX = {"HX-Request": "true"}


@dataclass
class Target:
    label: str
    path: str
    session: Session
    home: bool = False  # measured as a whole load, its panels included
    panels: list[str] = field(default_factory=list)


def targets(ctx: Context) -> list[Target]:
    """Public pages, the parent's page alone, then each family home with its panels."""
    anonymous = ctx.anonymous()
    parent, student = ctx.signed_in("parent"), ctx.signed_in("yasmine")
    return [
        Target("/auth/signin", "/auth/signin", anonymous),
        Target("/offres", "/offres", anonymous),
        Target("/dashboard/parent alone", "/dashboard/parent", parent),
        Target("/dashboard/parent + panels (parent)", "/dashboard/parent", parent, home=True),
        Target("/dashboard/eleve + panels (Yasmine)", "/dashboard/eleve", student, home=True),
        Target("/dashboard/parent + panels (Hichem: Sami's history)", "/dashboard/parent",
               ctx.signed_in("hichem"), home=True),
        Target("/dashboard/eleve + panels (Sami)", "/dashboard/eleve", ctx.signed_in("sami"), home=True),
    ]  # fmt: skip


def panels_of(page: str) -> list[str]:
    """The URLs of the lazy panels a page loads, in page order."""
    urls = []
    for tag in LAZY_TAG.findall(page):
        found = HX_GET.search(tag)
        if found:
            urls.append(html.unescape(found.group(1)))
    return urls


def warm_up(session: Session, path: str, headers: dict[str, str] | None = None) -> str:
    """Compile templates and fill pools; fail early if the URL does not answer 200 at itself."""
    body = ""
    for _ in range(WARMUP_REQUESTS):
        response = session.get(path, headers=headers)
        if response.status != 200 or session.url(path) != response.url:
            raise RuntimeError(f"{path} answers {response.status} at {response.url}, not 200 at itself")
        body = response.text
    if headers and "<html" in body:
        raise RuntimeError(f"the panel {path} answers a whole page to htmx, not a fragment")
    return body


def _load_loop(
    base: str, steps: list[tuple[str, dict[str, str]]], deadline: float, worker: loadgen.Worker
) -> None:
    """One keep-alive connection loading the page then its panels, back to back until the deadline."""
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    while time.monotonic() < deadline:
        started = time.perf_counter()
        ok = True
        for path, headers in steps:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                worker.errors += 1
                conn.close()
                ok = False
                break
            worker.requests += 1
            if response.status != 200:
                worker.errors += 1
                ok = False
        if ok:
            worker.latencies.append(time.perf_counter() - started)
    conn.close()


def run_loads(
    base: str, steps: list[tuple[str, dict[str, str]]], duration: float, connections: int
) -> tuple[loadgen.LoadResult, int]:
    """Whole loads per second, their p50/p99, and the number of requests they made."""
    workers, elapsed = loadgen.run_threads(_load_loop, (base, steps), duration, connections)
    return loadgen.result_of(workers, elapsed), sum(w.requests for w in workers)


@benchmark("throughput", order=30, help="req/s and p50/p99 latency under a local load generator")
def throughput(ctx: Context) -> list[Table]:
    opts = ctx.options
    table = Table(
        f"Throughput ({opts.connections} connections, {opts.duration:g} s per row; "
        f"gunicorn gthread, WEB_CONCURRENCY=2, ACCESS_LOG=0)",
        ["what is measured", "requests per load", "loads/s", "req/s", "p50", "p99",
         "share of sign-in", "verdict", "errors"],
    )  # fmt: skip
    signin_rate = 0.0
    for target in targets(ctx):
        page = warm_up(target.session, target.path)
        cookie = target.session.cookie_header()
        headers = {"Cookie": cookie} if cookie else {}
        if target.home:
            target.panels = panels_of(page)
            for panel in target.panels:
                warm_up(target.session, panel, HX)
            steps = [(target.path, headers)] + [(p, {**headers, **HX}) for p in target.panels]
            result, requests = run_loads(ctx.base_url, steps, opts.duration, opts.connections)
        else:
            # Same generator as the homes (Python threads), so that the shares compare like with like.
            result = loadgen.run_python(
                target.session.url(target.path), headers, opts.duration, opts.connections
            )
            requests = result.requests
        if target.path == "/auth/signin":
            signin_rate = result.rate
        share = result.rate / signin_rate if signin_rate else 0.0
        ok = share >= SHARE_TARGET and result.p99 <= P99_TARGET
        table.add(
            target.label,
            1 + len(target.panels),
            f"{result.rate:.0f}",
            f"{requests / result.seconds:.0f}",
            ms(result.p50),
            ms(result.p99),
            f"{100 * share:.0f} %",
            verdict(ok) if target.home else "",
            result.errors,
        )
        if target.home:
            table.notes.append(f"{target.label}: the page, then {', '.join(target.panels) or 'no panel'}.")
    table.notes += [
        "a home's load = the page then each of its lazy panels (HX-Request), in sequence on one",
        "connection; loads/s, p50 and p99 are those of whole loads (req/s counts every request).",
        f"target for a home: loads/s ≥ {SHARE_TARGET:.0%} of /auth/signin's req/s in this run, "
        f"p99 ≤ {ms(P99_TARGET)}.",
        f"load generator, gunicorn and PostgreSQL share this machine ({os.cpu_count()} CPUs).",
        "errors = socket errors + responses other than 200.",
    ]
    return [table]
