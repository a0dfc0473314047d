"""Scale: the staff tables, homes, analytics and CSV exports at 1× and 10× the centre's size.

For each factor a database of the bench's embedded PostgreSQL is migrated, given the demo seed,
then filled by bench/scale_data.py (set-based SQL) and VACUUM ANALYZEd; a gunicorn like the
bench's own serves it. One client at a time: p50/p95 of 30 loads of each page after a warm-up
(a load = the page then each lazy panel it asks for, as htmx does). Each CSV export linked from a
table: time, bytes, rows and the growth of the serving worker's RSS (streamed = constant memory).
At 10×, 16 clients on each page for a few seconds: p99. Targets: p95 ≤ 100 ms at 10× and the
same order as 1×; p99 ≤ 500 ms under 16 clients.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import psycopg

from bench import benchmark, loadgen
from bench.client import Session
from bench.context import DEMO_ACCOUNTS, Context
from bench.report import Table, ms, verdict
from bench.scale_data import Sizes, counts, family_email, seed, student_email
from bench.server import BenchServer, clean_environment
from bench.throughput import HX, _load_loop, panels_of
from nexus.seed import DEMO_PASSWORD

FACTORS = (1, 10)
WARMUP = 3
SAMPLES = 30
P95_TARGET = 0.100
P99_TARGET = 0.500
SAME_ORDER = 3.0  # 10× may take up to this many times the 1× p95 and still be "the same order"
LOAD_SECONDS = 4.0  # per page under 16 clients
SEARCH = "Famille42"
EXPORT_LINK = re.compile(r"href=\"([^\"]*(?:\.csv|/export|format=csv)[^\"]*)\"")

# (label, account, path, search parameter or None): every staff table and its search, the homes.
PAGES: list[tuple[str, str, str, str | None]] = [
    ("admin home", "admin", "/dashboard/admin", None),
    ("analytics · mois", "admin", "/dashboard/admin/analytics?periode=mois", None),
    ("analytics · trimestre", "admin", "/dashboard/admin/analytics?periode=trimestre", None),
    ("analytics · année", "admin", "/dashboard/admin/analytics?periode=annee", None),
    ("users", "admin", "/dashboard/admin/utilisateurs", "q"),
    ("subscriptions", "admin", "/dashboard/admin/abonnements", None),
    ("invoices", "admin", "/dashboard/admin/factures", "q"),
    ("audit", "admin", "/dashboard/admin/audit", "action"),
    ("ARIA figures", "admin", "/dashboard/admin/aria", None),
    ("assistante home", "assistante", "/dashboard/assistante", None),
    ("payments", "assistante", "/dashboard/assistante/paiements", "q"),
    ("students", "assistante", "/dashboard/assistante/eleves", "q"),
    ("sessions", "assistante", "/dashboard/assistante/seances", "q"),
    ("credits / ledger", "assistante", "/dashboard/assistante/credits", "q"),
    ("stage reservations", "assistante", "/dashboard/assistante/stages/reservations", "q"),
    ("bilan requests", "assistante", "/dashboard/assistante/bilans", "q"),
    ("generated bilans", "assistante", "/dashboard/assistante/bilans-generes", "q"),
    ("contacts", "assistante", "/dashboard/assistante/contacts", "q"),
    ("messages inbox", "assistante", "/messages/boite", "q"),
    ("coaches", "assistante", "/dashboard/assistante/coachs", "q"),
    ("parent home (family 0)", "family", "/dashboard/parent", None),
    ("parent payments (family 0)", "family", "/dashboard/parent/paiements", None),
    ("parent sessions (family 0)", "family", "/dashboard/parent/sessions", None),
    ("student home (student 0)", "student", "/dashboard/eleve", None),
    ("student credits (student 0)", "student", "/dashboard/eleve/credits", None),
    ("student sessions (student 0)", "student", "/dashboard/eleve/mes-sessions", None),
]
SEARCH_VALUES = {"q": SEARCH, "action": "payment"}
# What each page got for ten times the centre (migration 0016 and the services), by label prefix.
FIXES = {
    "subscriptions": "paged by 50 + students joined (1,003 → 4 statements)",
    "payments": "payer and child loaded with the rows (455 → 35 statements)",
    "credits / ledger": "form lists the page's students, balances via unexpired lots (1.2 s → 18 ms)",
    "students": "index users (last_name, first_name) for the name order",
    "analytics": "covering indexes: ledger and ARIA messages by date",
    "parent sessions": "reports loaded with the sessions (40 → 11 statements)",
    "student sessions": "reports loaded with the sessions",
    "parent home": "balances via unexpired lots",
    "student home": "balances via unexpired lots",
}


@dataclass
class Page:
    label: str
    session: Session
    path: str
    panels: list[str] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)


class ScaleServer(BenchServer):
    """gunicorn (as the bench runs it) over an already prepared database."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url

    def start(self) -> None:
        shutil.rmtree(self.pg.root, ignore_errors=True)  # BenchServer made it; this server has none
        self.env = clean_environment(self.database_url, self.tmp / "instance")
        self.proc = self._gunicorn()
        self._wait_healthy()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=25)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def workers(self) -> list[int]:
        """The pids of gunicorn's workers (children of the master this object started)."""
        if self.proc is None:
            return []
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    found.append(int(stat.parent.name))
        return found

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def rss_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RssWatch:
    """Samples the workers' RSS every 10 ms; `growth` = the largest rise of one worker, in KB."""

    def __init__(self, pids: list[int]) -> None:
        self.base = {pid: rss_kb(pid) for pid in pids}
        self.peak = dict(self.base)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.wait(0.01):
            for pid in self.peak:
                self.peak[pid] = max(self.peak[pid], rss_kb(pid))

    def __enter__(self) -> RssWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()

    @property
    def growth(self) -> int:
        return max((self.peak[p] - self.base[p] for p in self.base), default=0)

    @property
    def peak_kb(self) -> int:
        return max(self.peak.values(), default=0)


# --- databases ---------------------------------------------------------------------------------------


def socket_folder(database_url: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(database_url).query)["host"][0]


def create_database(host: str, name: str) -> str:
    """A fresh database on the bench's PostgreSQL; its SQLAlchemy URL."""
    with psycopg.connect(f"postgresql://postgres@/postgres?host={host}", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@/{name}?host={urllib.parse.quote(host)}"


def drop_database(host: str, name: str) -> None:
    with psycopg.connect(f"postgresql://postgres@/postgres?host={host}", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_database(database_url: str, factor: float) -> Sizes:
    """Migrate, demo seed (in a child process, as the bench server does), the scale seed, then the
    closed months' figure rollups."""
    import subprocess
    import sys

    from bench.server import ROOT

    env = clean_environment(database_url, Path("/nonexistent"))
    code = "import bench.server as s; s.prepare()"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"migrating/seeding the scale database failed:\n{done.stderr[-3000:]}")
    sizes = seed(database_url.replace("+psycopg", ""), factor, log=lambda line: print(line, flush=True))
    # The closed months' figures, as the hourly job leaves them in production.
    code = "from nexus.jobs.figures import refresh_figure_rollups as job; job()"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the figure rollups of the scale database failed:\n{done.stderr[-3000:]}")
    return sizes


# --- measuring ---------------------------------------------------------------------------------------


def sessions_for(base_url: str) -> dict[str, Session]:
    accounts = {
        "admin": DEMO_ACCOUNTS["admin"][0],
        "assistante": DEMO_ACCOUNTS["assistante"][0],
        "family": family_email(0),
        "student": student_email(0),
    }
    signed: dict[str, Session] = {}
    for key, email in accounts.items():
        signed[key] = Session(base_url)
        signed[key].sign_in(email, DEMO_PASSWORD)
    return signed


def pages_for(signed: dict[str, Session]) -> list[Page]:
    """Each page that answers 200 (analytics is skipped when it is not there yet), and its search."""
    pages = []
    for label, account, path, param in PAGES:
        session = signed[account]
        response = session.get(path)
        if response.status != 200 or urllib.parse.urlsplit(response.url).path != path.split("?")[0]:
            print(f"[scale] skipped {path}: HTTP {response.status} at {response.url}", flush=True)
            continue
        pages.append(Page(label, session, path, panels_of(response.text)))
        if param:
            sep = "&" if "?" in path else "?"
            query = urllib.parse.urlencode({param: SEARCH_VALUES[param]})
            pages.append(Page(f"{label} · search", session, f"{path}{sep}{query}"))
    return pages


def load_once(page: Page) -> float:
    started = time.perf_counter()
    for i, path in enumerate([page.path, *page.panels]):
        response = page.session.get(path, headers=HX if i else None)
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
    return time.perf_counter() - started


def measure_one_client(pages: list[Page]) -> None:
    for page in pages:
        for _ in range(WARMUP):
            load_once(page)
        page.loads = [load_once(page) for _ in range(SAMPLES)]


def p(values: list[float], fraction: float) -> float:
    return loadgen.percentile(values, fraction)


def under_load(base_url: str, page: Page, connections: int) -> loadgen.LoadResult:
    cookie = {"Cookie": page.session.cookie_header()}
    steps = [(page.path, cookie)] + [(panel, {**cookie, **HX}) for panel in page.panels]
    workers, elapsed = loadgen.run_threads(_load_loop, (base_url, steps), LOAD_SECONDS, connections)
    return loadgen.result_of(workers, elapsed)


@dataclass
class Export:
    label: str
    path: str
    seconds: float
    size: int
    rows: int
    rss_growth_kb: int
    rss_peak_kb: int


def export_links(pages: list[Page]) -> list[tuple[str, Session, str]]:
    """The CSV links of the tables (unfiltered pages only), once each."""
    seen: set[str] = set()
    found = []
    for page in pages:
        if "· search" in page.label or page.label.startswith("analytics"):
            continue  # the tables' own exports (analytics' per-chart CSVs are small)
        for href in EXPORT_LINK.findall(page.session.get(page.path).text):
            url = href.replace("&amp;", "&")
            if url not in seen:
                seen.add(url)
                found.append((page.label, page.session, url))
    return found


def download(server: ScaleServer, session: Session, path: str) -> tuple[float, int, int, int, int]:
    """Seconds, bytes, lines, the serving worker's RSS growth and the workers' peak RSS (KB)."""
    parts = urllib.parse.urlsplit(session.url(path))
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=600)
    size = lines = 0
    pids = server.workers()
    if not pids:
        raise RuntimeError("gunicorn's workers were not found: the RSS would not be measured")
    with RssWatch(pids) as watch:
        started = time.perf_counter()
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                     headers={"Cookie": session.cookie_header()})  # fmt: skip
        response = conn.getresponse()
        while chunk := response.read(65536):
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}")
    return seconds, size, lines, watch.growth, watch.peak_kb


def measure_exports(server: ScaleServer, pages: list[Page]) -> list[Export]:
    exports = []
    for label, session, path in export_links(pages):
        seconds, size, lines, growth, peak = download(server, session, path)
        exports.append(Export(label, path, seconds, size, max(lines - 1, 0), growth, peak))
    return exports


# --- the scenario ------------------------------------------------------------------------------------


@dataclass
class Run:
    factor: int
    sizes: Sizes
    rows: dict[str, int]
    pages: list[Page]
    exports: list[Export]
    loaded: dict[str, loadgen.LoadResult]
    load: float  # the machine's 1-minute load average when its measures began


def run_factor(host: str, factor: int, connections: int) -> Run:
    name = f"nexus_scale{factor}"
    started = time.monotonic()
    url = create_database(host, name)
    try:
        print(f"[scale] seeding {factor}× …", flush=True)
        sizes = prepare_database(url, factor)
        rows = counts(url.replace("+psycopg", ""))
        print(f"[scale] {factor}× ready in {time.monotonic() - started:.0f} s: {rows}", flush=True)
        with ScaleServer(url) as server:  # started by `with`
            load = os.getloadavg()[0]
            pages = pages_for(sessions_for(server.url))
            measure_one_client(pages)
            exports = measure_exports(server, pages)
            loaded = {}
            if factor == max(FACTORS):
                loaded = {page.label: under_load(server.url, page, connections) for page in pages}
        return Run(factor, sizes, rows, pages, exports, loaded, load)
    finally:
        drop_database(host, name)


def pages_table(small: Run, big: Run, connections: int) -> Table:
    table = Table(
        f"Scale: one client at a time ({SAMPLES} loads after {WARMUP}), and {connections} clients at "
        f"{big.factor}× ({LOAD_SECONDS:g} s per page)",
        ["page", f"{small.factor}× p50", f"{small.factor}× p95", f"{big.factor}× p50", f"{big.factor}× p95",
         f"{big.factor}× ÷ {small.factor}×", f"{connections} clients p99", "verdict", "fix"],
    )  # fmt: skip
    before = {page.label: page for page in small.pages}
    for page in big.pages:
        old = before.get(page.label)
        p95 = p(page.loads, 0.95)
        ratio = p95 / p(old.loads, 0.95) if old else 0.0
        loaded = big.loaded.get(page.label)
        ok = p95 <= P95_TARGET and (not old or ratio <= SAME_ORDER)
        ok = ok and (loaded is None or (loaded.p99 <= P99_TARGET and loaded.errors == 0))
        table.add(
            page.label + (f" (+{len(page.panels)} panels)" if page.panels else ""),
            ms(p(old.loads, 0.5)) if old else "",
            ms(p(old.loads, 0.95)) if old else "",
            ms(p(page.loads, 0.5)),
            ms(p95),
            f"{ratio:.1f}" if old else "",
            (ms(loaded.p99) + (f" ({loaded.errors} errors)" if loaded.errors else "")) if loaded else "",
            verdict(ok),
            next((fix for key, fix in FIXES.items() if page.label.startswith(key)), "")
            if "· search" not in page.label
            else "",
        )
    table.notes += [
        f"rows at {small.factor}×: {small.rows}",
        f"rows at {big.factor}×: {big.rows}",
        f"targets: p95 ≤ {ms(P95_TARGET)} at {big.factor}× and at most {SAME_ORDER:g}× the "
        f"{small.factor}× p95; p99 ≤ {ms(P99_TARGET)} under {connections} clients, no error.",
        f"search = ?q={SEARCH} (audit: ?action=payment); family 0 = {family_email(0)} (two children, "
        "a year of sessions, ledger, payments, ARIA).",
        "a load = the page then each lazy panel it asks for (HX-Request), one after the other.",
        f"load average when measuring began: {small.load:.1f} at {small.factor}×, {big.load:.1f} at "
        f"{big.factor}× ({os.cpu_count()} CPUs shared by clients, gunicorn, PostgreSQL and anything else).",
    ]
    return table


def exports_table(runs: list[Run]) -> Table:
    table = Table(
        "Scale: CSV exports of every row (streamed)",
        ["export", "factor", "rows", "size", "time", "rows/s", "worker RSS growth", "worker RSS peak"],
    )
    for run in runs:
        for export in run.exports:
            table.add(
                f"{export.label}: {export.path}", f"{run.factor}×", f"{export.rows:,}".replace(",", " "),
                f"{export.size / 1e6:.1f} MB", ms(export.seconds),
                f"{export.rows / export.seconds:,.0f}".replace(",", " ") if export.seconds else "",
                f"{export.rss_growth_kb / 1024:.1f} MB", f"{export.rss_peak_kb / 1024:.0f} MB",
            )  # fmt: skip
    table.notes.append(
        "worker RSS growth = the largest rise of one gunicorn worker's RSS during the download."
    )
    if not any(run.exports for run in runs):
        table.notes.append("no table links a CSV export yet.")
    return table


@benchmark("scale", order=90, help="staff tables, homes, analytics and CSV exports at 1× and 10× the centre")
def scale(ctx: Context) -> list[Table]:
    host = socket_folder(ctx.database_url)
    runs = [run_factor(host, factor, ctx.options.connections) for factor in FACTORS]
    return [pages_table(runs[0], runs[-1], ctx.options.connections), exports_table(runs)]
