"""Slow 3G: a cold load in Debian's Chromium over 400 kbit/s with 400 ms round trips.

A family home counts as loaded when its lazy panels are in too: "complete" is the later of the
load event and the end of the last htmx request (the panels), and it is what the target judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import benchmark
from bench.context import Context
from bench.report import Table, kb, ms, verdict
from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS

SLOW_3G = {
    "offline": False,
    "latency": 400,  # ms added to every round trip
    "downloadThroughput": 50_000,  # bytes/s = 400 kbit/s
    "uploadThroughput": 50_000,
}
TARGET_S = 1.5
WARMUP = 20  # requests per page before measuring (two gunicorn workers)
TIMINGS_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const xhr = res.filter(r => r.initiatorType === 'xmlhttprequest' || r.initiatorType === 'fetch');
  return {dcl: nav.domContentLoadedEventEnd / 1000, load: nav.loadEventEnd / 1000,
          complete: Math.max(nav.loadEventEnd, ...xhr.map(r => r.responseEnd)) / 1000,
          bytes: nav.transferSize + res.reduce((sum, r) => sum + r.transferSize, 0),
          requests: 1 + res.length, panels: xhr.length};
}"""
# Lazy panels still waiting (they replace or delete themselves), or an htmx request under way.
BUSY = "document.documentElement.classList.contains('is-loading')"
LOAD_PENDING_JS = f"() => document.querySelector('[hx-trigger^=load]') !== null || {BUSY}"
REVEALED_PENDING_JS = f"() => document.querySelector('[hx-trigger^=revealed]') !== null || {BUSY}"
# Scroll down step by step (as a reader does) until every "revealed" panel has come in; the time
# from the first scroll to the last panel's response.
SCROLL_JS = """async () => {
  const start = performance.now();
  const waiting = () => document.querySelector('[hx-trigger^=revealed]') !== null
    || document.documentElement.classList.contains('is-loading');
  if (!document.querySelector('[hx-trigger^=revealed]')) return 0;
  for (let y = 0; y <= document.body.scrollHeight && waiting(); y += window.innerHeight / 2) {
    window.scrollTo(0, y);
    await new Promise(r => setTimeout(r, 100));
  }
  while (waiting()) await new Promise(r => setTimeout(r, 20));
  const xhr = performance.getEntriesByType('resource').filter(r => r.initiatorType === 'xmlhttprequest');
  return (Math.max(...xhr.map(r => r.responseEnd)) - start) / 1000;
}"""


@dataclass
class Load:
    dcl: float
    load: float
    complete: float  # the load event or the last panel's response, whichever is later
    bytes: int
    requests: int
    panels: int
    scrolled: float  # from the first scroll to the last "revealed" panel in (0: none)


def cold_load(browser: Any, url: str, cookies: list[dict[str, str]]) -> Load:
    """One load in a fresh browser context (empty cache), throttled through CDP."""
    context = browser.new_context()
    try:
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", SLOW_3G)
        page.goto(url, wait_until="load", timeout=60_000)
        # Functions, not expressions: Playwright evaluates an expression with eval, which the CSP refuses.
        page.wait_for_function("() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
        page.wait_for_function(f"() => !({LOAD_PENDING_JS})()", timeout=60_000)
        timings = page.evaluate(TIMINGS_JS)  # the cold load, before any scrolling
        return Load(**timings, scrolled=page.evaluate(SCROLL_JS))
    finally:
        context.close()


def median_load(browser: Any, url: str, cookies: list[dict[str, str]], runs: int) -> Load:
    loads = [cold_load(browser, url, cookies) for _ in range(runs)]
    return sorted(loads, key=lambda x: x.complete)[len(loads) // 2]


@benchmark("slow3g", order=20, help="cold loads in Chromium over emulated slow 3G")
def slow_3g(ctx: Context) -> list[Table]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        note = f"skipped: {CHROMIUM} is not installed (apt-get install chromium; never `playwright install`)."
        return [Table("Slow 3G cold load", ["page"], notes=[note])]
    base = ctx.gzip_url()
    # Sami's family: the demo history gives the home its index, badges, trajectory and chart.
    parent, student = ctx.signed_in("hichem"), ctx.signed_in("sami")
    # A warm server, as in production and as the throughput benchmark has it: every worker has
    # compiled the pages' templates and statements before the first measured load.
    for session, path in [(ctx.anonymous(), "/auth/signin"), (parent, "/dashboard/parent"),
                          (parent, "/dashboard/parent/progression"), (student, "/dashboard/eleve"),
                          (student, "/dashboard/eleve/progression")]:  # fmt: skip
        for _ in range(WARMUP):
            session.get(path)
    targets = [
        ("/auth/signin", "/auth/signin", []),
        ("/dashboard/parent + panels (Hichem)", "/dashboard/parent", parent.browser_cookies(base)),
        ("/dashboard/eleve + panels (Sami)", "/dashboard/eleve", student.browser_cookies(base)),
    ]
    table = Table(
        f"Slow 3G cold load (400 ms RTT, 400 kbit/s; Chromium; median of {ctx.options.runs})",
        ["page", "DOMContentLoaded", "load", "panels", "complete", "transferred", "requests",
         "complete < 1.5 s", "revealed panels after scroll"],
    )  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for label, path, cookies in targets:
                load = median_load(browser, base + path, cookies, ctx.options.runs)
                table.add(
                    label,
                    ms(load.dcl),
                    ms(load.load),
                    load.panels,
                    ms(load.complete),
                    kb(load.bytes),
                    load.requests,
                    verdict(load.complete < TARGET_S),
                    ms(load.scrolled) if load.scrolled else "—",
                )
        finally:
            browser.close()
    table.notes += [
        "through a local gzip proxy (level 6) standing in for nginx; cache disabled, new context per run.",
        "complete = the later of the load event and the last lazy panel's response (htmx).",
        'revealed panels (hx-trigger="revealed", below the fold) load as the reader scrolls to them:',
        "not part of the cold load; the last column is the time from the first scroll to the last one in.",
        f"transferred = the browser's transferSize (headers included). Target: complete < {TARGET_S} s.",
    ]
    return [table]
