"""Throughput: requests per second and p50/p99 latency against gunicorn (gthread, 2 workers)."""

from __future__ import annotations

import os

from bench import benchmark, loadgen
from bench.client import Session
from bench.context import Context
from bench.report import Table, ms

WARMUP_REQUESTS = 30


def targets(ctx: Context) -> list[tuple[str, str, Session]]:
    """(label, path, session): public pages, then a signed-in dashboard."""
    anonymous = ctx.anonymous()
    return [
        ("/auth/signin", "/auth/signin", anonymous),
        ("/offres", "/offres", anonymous),
        ("/dashboard/parent (parent)", "/dashboard/parent", ctx.signed_in("parent")),
    ]


def warm_up(session: Session, path: str) -> None:
    """Compile templates and fill pools; fail early if the page does not answer 200."""
    for _ in range(WARMUP_REQUESTS):
        response = session.get(path)
        if response.status != 200 or session.url(path) != response.url:
            raise RuntimeError(f"{path} answers {response.status} at {response.url}, not 200 at itself")


@benchmark("throughput", order=30, help="req/s and p50/p99 latency under a local load generator")
def throughput(ctx: Context) -> list[Table]:
    opts = ctx.options
    table = Table(
        f"Throughput ({opts.connections} connections, {opts.duration:g} s per page; "
        f"gunicorn gthread, WEB_CONCURRENCY=2, ACCESS_LOG=0)",
        ["page", "generator", "req/s", "p50", "p99", "requests", "errors"],
    )
    for label, path, session in targets(ctx):
        warm_up(session, path)
        cookie = session.cookie_header()
        headers = {"Cookie": cookie} if cookie else {}
        result = loadgen.run(session.url(path), headers, opts.duration, opts.connections)
        table.add(
            label,
            result.generator,
            f"{result.rate:.0f}",
            ms(result.p50),
            ms(result.p99),
            result.requests,
            result.errors,
        )
    table.notes += [
        f"load generator, gunicorn and PostgreSQL share this machine ({os.cpu_count()} CPUs).",
        "errors = socket errors + non-2xx/3xx (wrk) or non-200 (python) responses.",
    ]
    return [table]
