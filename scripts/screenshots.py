"""Full-page screenshots of every page, phone (360 px) and desktop (1280 px), for a visual review.

    .venv/bin/python scripts/screenshots.py                 # starts its own server (embedded PostgreSQL)
    .venv/bin/python scripts/screenshots.py http://127.0.0.1:5050   # or uses a running one (demo data)

PNGs go to artifacts/screenshots/<width>/<name>.png. For each page it also prints what a reviewer
checks first: horizontal scrolling, and tap targets smaller than 44 px (links inside running text
excepted), and the gzip size of its HTML. Not a test: it never fails on what it finds.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

OUT = ROOT / "artifacts" / "screenshots"
PASSWORD = "nexus-demo-2026"  # noqa: S105 - the public demo password (CONTRACT.md)
WIDTHS = (360, 1280)

PUBLIC = [
    ("home", "/"),
    ("offres", "/offres"),
    ("equipe", "/equipe"),
    ("aria", "/plateforme-aria"),
    ("contact", "/contact"),
    ("bilan-gratuit", "/bilan-gratuit"),
    ("inscription", "/inscription"),
    ("inscription-lien-invalide", "/inscription/confirmer?token=x"),
    ("mentions-legales", "/mentions-legales"),
    ("signin", "/auth/signin"),
    ("mot-de-passe-oublie", "/auth/mot-de-passe-oublie"),
    ("reset-invalide", "/auth/reset-password?token=x"),
    ("404", "/cette-page-n-existe-pas"),
]
SIGNED_IN = [
    (
        "admin@nexus-reussite.tn",
        [
            ("dashboard-admin", "/dashboard/admin"),
            ("admin-factures", "/dashboard/admin/factures"),
            ("admin-utilisateurs", "/dashboard/admin/utilisateurs"),
            ("admin-nouveau-compte", "/dashboard/admin/utilisateurs/nouveau"),
        ],
    ),
    (
        "assistante@nexus-reussite.tn",
        [
            ("dashboard-assistante", "/dashboard/assistante"),
            ("assistante-eleves", "/dashboard/assistante/eleves"),
            ("assistante-credits", "/dashboard/assistante/credits"),
            ("assistante-paiements", "/dashboard/assistante/paiements"),
            ("assistante-bilans", "/dashboard/assistante/bilans?filtre=toutes"),
            ("assistante-contacts", "/dashboard/assistante/contacts?filtre=tous"),
        ],
    ),
    (
        "helios@nexus-reussite.tn",
        [
            ("dashboard-coach", "/dashboard/coach"),
            ("coach-disponibilites", "/dashboard/coach/availability"),
            ("coach-eleves", "/dashboard/coach/eleves"),
        ],
    ),
    (
        "parent@nexus-reussite.tn",
        [
            ("dashboard-parent", "/dashboard/parent"),
            ("parent-enfants", "/dashboard/parent/enfants"),
            ("parent-paiement-sans-offre", "/dashboard/parent/paiement"),
            ("notifications", "/notifications"),
            ("compte", "/auth/compte"),
            ("parent-sessions", "/dashboard/parent/sessions"),
        ],
    ),
    (
        "sami@nexus-reussite.tn",
        [
            ("dashboard-eleve", "/dashboard/eleve"),
            ("eleve-aria", "/dashboard/eleve/aria"),
            ("eleve-sessions", "/dashboard/eleve/sessions"),
        ],
    ),
]

AUDIT = """
() => {
  const doc = document.documentElement;
  const overflow = doc.scrollWidth - doc.clientWidth;
  const wide = [];
  if (overflow > 0) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > doc.clientWidth + 1 && r.width > 0) {
        wide.push(el.tagName.toLowerCase() + '.' + el.className);
      }
      if (wide.length > 5) break;
    }
  }
  const small = [];
  for (const el of document.querySelectorAll('a, button, input, select, textarea, summary')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || el.type === 'hidden') continue;
    const inText = el.closest('p, td, dd, blockquote') && !el.classList.contains('button');
    if (el.tagName === 'A' && inText) continue;
    if (el.closest('.hp, .skip')) continue;
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.closest('label');
      if (label && label.getBoundingClientRect().height >= 44) continue;
    }
    if (r.height < 44 || r.width < 44) {
      const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30);
      small.push(`${el.tagName.toLowerCase()} "${text}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return {overflow, wide, small};
}
"""


@contextmanager
def own_server() -> Iterator[str]:
    """Embedded PostgreSQL + a seeded database + gunicorn on a free port; all stopped after."""
    from tests.e2e.server import prepare_database, start_gunicorn, stop
    from tests.servers import EmbeddedPostgres, free_port, wait_for_port

    pg = EmbeddedPostgres()
    pg.start()
    proc = None
    try:
        instance = Path(tempfile.mkdtemp(prefix="nx-shots-"))
        url = pg.database("nexus_screenshots")
        prepare_database(url, instance)
        port = free_port()
        proc = start_gunicorn(url, instance, port)
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc is not None:
            stop(proc)
        pg.stop()


def shoot(page, base: str, name: str, path: str, width: int) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + path)
    page.wait_for_load_state("load")
    target = OUT / str(width) / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    audit = page.evaluate(AUDIT)
    html_gz = len(gzip.compress(page.request.get(base + path).body(), 6))
    notes = []
    if audit["overflow"] > 0:
        notes.append(f"HORIZONTAL SCROLL +{audit['overflow']}px {audit['wide']}")
    if audit["small"]:
        notes.append(f"small targets: {audit['small']}")
    print(f"{width:>5} {name:<22} {path:<30} html {html_gz / 1024:4.1f} KB gz  {'; '.join(notes) or 'ok'}")


def run(base: str) -> None:
    from playwright.sync_api import sync_playwright

    for width in WIDTHS:
        (OUT / str(width)).mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in WIDTHS:
                viewport = {"width": width, "height": 800 if width > 600 else 740}
                context = browser.new_context(viewport=viewport, locale="fr-FR", timezone_id="Africa/Tunis")
                page = context.new_page()
                for name, path in PUBLIC:
                    shoot(page, base, name, path, width)
                context.close()
                for email, pages in SIGNED_IN:
                    context = browser.new_context(
                        viewport=viewport, locale="fr-FR", timezone_id="Africa/Tunis"
                    )
                    page = context.new_page()
                    page.goto(base + "/auth/signin")
                    page.get_by_label("E-mail", exact=True).fill(email)
                    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
                    page.get_by_role("button", name="Se connecter").click()
                    page.wait_for_url("**/dashboard/**")
                    for name, path in pages:
                        shoot(page, base, name, path, width)
                    context.close()
        finally:
            browser.close()
    assets = [ROOT / "nexus/static/css/app.css", *(ROOT / "nexus/static/vendor").glob("htmx-[0-9]*.min.js")]
    static_gz = sum(len(gzip.compress(p.read_bytes(), 6)) for p in assets)
    print(f"\nCSS + htmx: {static_gz / 1024:.1f} KB gz, to add to each page's HTML for a first load.")
    print(f"Screenshots in {OUT}")


def main() -> int:
    if len(sys.argv) > 1:
        run(sys.argv[1].rstrip("/"))
    else:
        with own_server() as base:
            run(base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
