"""Transfer approvals through the staff table: approvals per second and their latency.

Each approval is the whole money path in one transaction: payment claimed, plan or credits
granted, invoice numbered and its PDF rendered into the family's vault, e-mails queued.
"""

from __future__ import annotations

import re
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from bench import benchmark
from bench.client import CSRF_INPUT, VALUE, Session
from bench.context import Context
from bench.report import Table, ms

ORDERS = 120
THREADS = 4


def pending_payments(database_url: str, count: int) -> list[int]:
    """Add `count` children to the demo parent, each with a declared transfer (CREDITS_5)."""
    from nexus import create_app
    from nexus.extensions import db
    from nexus.models.common import Grade
    from nexus.models.identity import User
    from nexus.services import billing, family

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench-" + "x" * 40})
    ids = []
    with app.app_context():
        parent = db.session.query(User).filter_by(email="parent@nexus-reussite.tn").one()
        stamp = int(time.time())
        for i in range(count):
            child = family.add_child(parent, f"Bench{i}", f"Famille{stamp}", Grade.PREMIERE, None, None)
            order = billing.build_order(parent, child.id, "CREDITS_5", None)
            ids.append(billing.declare_transfer(parent, order).id)
        db.session.commit()
    return ids


def csrf_token(session: Session) -> str:
    page = session.get("/dashboard/assistante/paiements").text
    match = CSRF_INPUT.search(page)
    token = VALUE.search(match.group(0)) if match else None
    if token is None:
        raise RuntimeError("no CSRF token on the payments page")
    return token.group(1)


def approve(session: Session, token: str, payment_id: int) -> float:
    started = time.perf_counter()
    response = session.request(
        f"/dashboard/assistante/paiements/{payment_id}/valider",
        data={"confirm": "1", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    elapsed = time.perf_counter() - started
    if response.status != 200 or not re.search("Validé", response.text):
        raise RuntimeError(f"approval {payment_id} failed: HTTP {response.status}")
    return elapsed


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


@benchmark("approvals", order=50, help="transfer approvals per second and p95, through the staff table")
def approvals(ctx: Context) -> list[Table]:
    ids = pending_payments(ctx.database_url, ORDERS)
    staff = ctx.signed_in("assistante")
    token = csrf_token(staff)
    half = len(ids) // 2
    table = Table(
        "Transfer approvals (HTTP, one transaction each)", ["mode", "approvals", "per second", "p50", "p95"]
    )

    started = time.perf_counter()
    sequential = [approve(staff, token, pid) for pid in ids[:half]]
    wall = time.perf_counter() - started
    table.add(
        "one at a time",
        len(sequential),
        f"{len(sequential) / wall:.1f}",
        ms(statistics.median(sequential)),
        ms(p95(sequential)),
    )

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        parallel = list(pool.map(lambda pid: approve(staff, token, pid), ids[half:]))
    wall = time.perf_counter() - started
    table.add(
        f"{THREADS} staff at once",
        len(parallel),
        f"{len(parallel) / wall:.1f}",
        ms(statistics.median(parallel)),
        ms(p95(parallel)),
    )
    table.notes.append(
        "Each approval grants credits, numbers the invoice (one counter row per month), renders its PDF."
    )
    return [table]
