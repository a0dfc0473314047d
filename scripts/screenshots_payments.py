"""Screenshots of the money path (issue 3), phone (360 px) and desktop (1280 px), with its data.

    .venv/bin/python scripts/screenshots_payments.py        # its own server, fresh demo database

It drives the app as its users do, in this order, and photographs every page on the way:
1. the parent before paying: offers per child, the child picker, the order summaries (a plan with
   its ARIA subject, a credit pack) with the bank details and the transfer reference;
2. the parent declares three transfers (Hybride for Yasmine, Pack 10 crédits for Yasmine, Pack
   Grand Oral for Adam) and asks for credits; the staff tables then hold pending rows;
3. the assistante approves Yasmine's Hybride in the row (htmx) and rejects Adam's pack with a
   reason; the admin creates a manual invoice;
4. every page after that, for the parent, the staff and the student — and the invoice PDFs,
   rendered to PNG with pdftoppm (poppler-utils).

PNGs go to artifacts/screenshots/<width>/pay-*.png, PDFs and their PNGs to
artifacts/screenshots/pdf/. Needs a fresh database: it always starts its own server.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from screenshots import OUT, PASSWORD, WIDTHS, own_server, shoot

from tests.e2e.server import CHROMIUM, CHROMIUM_ARGS

PARENT = "parent@nexus-reussite.tn"
ASSISTANTE = "assistante@nexus-reussite.tn"
ADMIN = "admin@nexus-reussite.tn"
STUDENT = "sami@nexus-reussite.tn"


def viewport(width: int) -> dict[str, int]:
    return {"width": width, "height": 800 if width > 600 else 740}


def signed_in(browser, base: str, email: str, width: int, javascript: bool = True):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport=viewport(width), locale="fr-FR", timezone_id="Africa/Tunis", java_script_enabled=javascript
    )
    page = context.new_page()
    page.goto(base + "/auth/signin")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/dashboard/**")
    return context, page


def child_ids(browser, base: str) -> dict[str, int]:
    """{'Yasmine': id, 'Adam': id}, read from the parent's offers page."""
    context, page = signed_in(browser, base, PARENT, 1280)
    page.goto(base + "/dashboard/parent/abonnements")
    ids = {}
    for section in page.locator("section[id^=enfant-]").all():
        name = section.locator("h2").inner_text().split()[0]
        ids[name] = int((section.get_attribute("id") or "").removeprefix("enfant-"))
    context.close()
    return ids


def capture(browser, base: str, email: str, pages: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    for width in WIDTHS:
        context, page = signed_in(browser, base, email, width)
        for name, path in pages:
            shoot(page, base, name, path, width)
        context.close()


def declare(page, base: str, offer: str, student: int, subject: str | None = None) -> str:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/dashboard/parent/paiement?offre={offer}&eleve={student}")
    reference = re.search(r"NX-[A-Z0-9]{8}", page.locator("main").inner_text()).group(0)  # type: ignore[union-attr]
    if subject:
        page.get_by_label("Matière d'ARIA").first.select_option(subject)
    page.get_by_role("button", name="J'ai effectué le virement").click()
    page.wait_for_url("**/dashboard/parent/paiements")
    return reference


def prepare_declarations(browser, base: str, ids: dict[str, int]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, base, PARENT, 1280)
    refs = {
        "hybride": declare(page, base, "HYBRIDE", ids["Yasmine"], "MATHEMATIQUES"),
        "credits": declare(page, base, "CREDITS_10", ids["Yasmine"]),
        "oral": declare(page, base, "GRAND_ORAL", ids["Adam"]),
    }
    page.goto(base + "/dashboard/parent/enfants")
    card = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Yasmine")))
    card.locator("summary", has_text="Demander des crédits").click()
    card.get_by_label("Crédits (1 à 20)").fill("3")
    card.get_by_label("Pourquoi ? (facultatif)").fill("Révisions intensives avant le bac blanc")
    card.get_by_role("button", name="Envoyer la demande").click()
    page.wait_for_load_state("load")
    shoot(page, base, "pay-enfants-apres-demande", "/dashboard/parent/enfants", 1280)
    context.close()
    return refs


def staff_decisions(browser, base: str, refs: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    # Approve at phone width, in the row, as htmx does it; photograph the swapped row.
    context, page = signed_in(browser, base, ASSISTANTE, 360)
    page.goto(base + "/dashboard/assistante/paiements")
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("tr", has_text=refs["hybride"])
    row.get_by_role("button", name=re.compile("^Valider")).click()
    page.locator("tr", has_text=refs["hybride"]).get_by_text("Validé", exact=False).first.wait_for()
    page.screenshot(path=str(OUT / "360" / "pay-assistante-apres-validation.png"), full_page=True)
    context.close()
    # Reject at desktop width, with a reason.
    context, page = signed_in(browser, base, ASSISTANTE, 1280)
    page.goto(base + "/dashboard/assistante/paiements")
    row = page.locator("tr", has_text=refs["oral"])
    row.get_by_placeholder("Motif du refus").fill("Montant reçu incomplet (200 TND au lieu de 390 TND)")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile("^Refuser")).click()
    page.locator("tr", has_text=refs["oral"]).get_by_text("Refusé", exact=False).first.wait_for()
    page.screenshot(path=str(OUT / "1280" / "pay-assistante-apres-refus.png"), full_page=True)
    context.close()


def manual_invoice(browser, base: str) -> int:  # type: ignore[no-untyped-def]
    context, page = signed_in(browser, base, ADMIN, 1280)
    page.goto(base + "/dashboard/admin/factures/nouvelle")
    page.get_by_label("Nom ou raison sociale").fill("Société Éducative El Amal")
    page.get_by_label("E-mail (facultatif)").fill("contact@elamal.tn")
    page.get_by_label("Adresse (facultatif)").fill("12, rue de la Liberté, 1002 Tunis")
    page.get_by_label("Désignation 1").fill("Stage intensif de révisions — mathématiques (Terminale)")
    page.locator("#qty_0").fill("3")
    page.locator("#price_0").fill("120")
    page.get_by_label("Désignation 2").fill("Atelier « Méthodologie de la dissertation »")
    page.locator("#price_1").fill("60,500")
    page.locator("#discount").fill("20")
    page.get_by_label("Notes").fill("Paiement à réception, par virement ou en espèces au centre.")
    page.get_by_role("button", name="Créer le brouillon").click()
    page.wait_for_url(re.compile(r"/factures/\d+$"))
    invoice_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    context.close()
    return invoice_id


def first_invoice_id(browser, base: str) -> int:  # type: ignore[no-untyped-def]
    """The invoice of the approved transfer, as the parent sees it."""
    context, page = signed_in(browser, base, PARENT, 1280)
    page.goto(base + "/dashboard/parent/paiements")
    href = page.get_by_role("link", name=re.compile("Facture")).first.get_attribute("href") or ""
    context.close()
    return int(re.search(r"/factures/(\d+)/pdf", href).group(1))  # type: ignore[union-attr]


def render_pdfs(browser, base: str, invoices: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    out = OUT / "pdf"
    out.mkdir(parents=True, exist_ok=True)
    context, page = signed_in(browser, base, ADMIN, 1280)
    for name, invoice_id in invoices.items():
        for kind, path in (
            ("facture", f"/factures/{invoice_id}/pdf"),
            ("recu", f"/factures/{invoice_id}/recu"),
        ):
            response = page.request.get(base + path)
            if response.status != 200:
                print(f"{path}: HTTP {response.status}")
                continue
            pdf = out / f"{name}-{kind}.pdf"
            pdf.write_bytes(response.body())
            info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False).stdout
            pages = re.search(r"Pages:\s+(\d+)", info)
            size = re.search(r"Page size:\s+(.*)", info)
            print(f"{pdf.name}: {pages.group(1) if pages else '?'} page(s), {size.group(1) if size else '?'}")
            if shutil.which("pdftoppm"):
                subprocess.run(["pdftoppm", "-png", "-r", "90", str(pdf), str(out / pdf.stem)], check=False)
    context.close()


def run(base: str) -> None:
    from playwright.sync_api import sync_playwright

    for width in WIDTHS:
        (OUT / str(width)).mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ids = child_ids(browser, base)
            yasmine, adam = ids["Yasmine"], ids["Adam"]
            capture(
                browser,
                base,
                PARENT,
                [
                    ("pay-dashboard-parent-avant", "/dashboard/parent"),
                    ("pay-enfants", "/dashboard/parent/enfants"),
                    ("pay-abonnements", "/dashboard/parent/abonnements"),
                    ("pay-choix-enfant", "/dashboard/parent/paiement?offre=HYBRIDE"),
                    ("pay-paiement-hybride", f"/dashboard/parent/paiement?offre=HYBRIDE&eleve={yasmine}"),
                    (
                        "pay-paiement-credits10",
                        f"/dashboard/parent/paiement?offre=CREDITS_10&eleve={yasmine}",
                    ),
                    ("pay-paiement-aria-adam", f"/dashboard/parent/paiement?offre=ARIA_MATIERE&eleve={adam}"),
                    ("pay-paiements-vide", "/dashboard/parent/paiements"),
                    ("pay-offres-parent", "/offres"),
                ],
            )
            for width in WIDTHS:  # /offres for a visitor
                context = browser.new_context(
                    viewport=viewport(width), locale="fr-FR", timezone_id="Africa/Tunis"
                )
                page = context.new_page()
                shoot(page, base, "pay-offres-visiteur", "/offres", width)
                context.close()

            refs = prepare_declarations(browser, base, ids)
            capture(
                browser,
                base,
                ASSISTANTE,
                [
                    ("pay-assistante-paiements", "/dashboard/assistante/paiements"),
                    ("pay-assistante-credits", "/dashboard/assistante/credits"),
                ],
            )
            # Without JavaScript, "Valider" leads to a confirmation page first.
            for width in WIDTHS:
                context, page = signed_in(browser, base, ASSISTANTE, width, javascript=False)
                page.goto(base + "/dashboard/assistante/paiements")
                row = page.locator("tr", has_text=refs["credits"])
                row.get_by_role("button", name=re.compile("^Valider")).click()
                page.wait_for_load_state("load")
                page.screenshot(
                    path=str(OUT / str(width) / "pay-assistante-confirmation.png"), full_page=True
                )
                context.close()
            capture(
                browser,
                base,
                PARENT,
                [
                    (
                        "pay-paiement-en-attente",
                        f"/dashboard/parent/paiement?offre=CREDITS_10&eleve={yasmine}",
                    ),
                ],
            )

            staff_decisions(browser, base, refs)
            manual_id = manual_invoice(browser, base)
            approved_id = first_invoice_id(browser, base)

            capture(
                browser,
                base,
                PARENT,
                [
                    ("pay-dashboard-parent", "/dashboard/parent"),
                    ("pay-enfants-apres", "/dashboard/parent/enfants"),
                    ("pay-abonnements-apres", "/dashboard/parent/abonnements"),
                    ("pay-paiements", "/dashboard/parent/paiements"),
                    ("pay-ressources", "/dashboard/parent/ressources"),
                ],
            )
            capture(
                browser,
                base,
                ASSISTANTE,
                [
                    ("pay-assistante-paiements-apres", "/dashboard/assistante/paiements"),
                    ("pay-assistante-credits-apres", "/dashboard/assistante/credits"),
                ],
            )
            capture(
                browser,
                base,
                ADMIN,
                [
                    ("pay-admin-factures", "/dashboard/admin/factures"),
                    ("pay-admin-facture-nouvelle", "/dashboard/admin/factures/nouvelle"),
                    ("pay-admin-facture-manuelle", f"/dashboard/admin/factures/{manual_id}"),
                    ("pay-admin-facture-virement", f"/dashboard/admin/factures/{approved_id}"),
                    ("pay-admin-utilisateurs", "/dashboard/admin/utilisateurs"),
                    ("pay-admin-audit", "/dashboard/admin/audit"),
                    ("pay-admin-abonnements", "/dashboard/admin/abonnements"),
                ],
            )
            capture(browser, base, STUDENT, [("pay-eleve-credits", "/dashboard/eleve/credits")])
            render_pdfs(browser, base, {"virement": approved_id, "manuelle": manual_id})
        finally:
            browser.close()
    print(f"Screenshots in {OUT}")


def main() -> int:
    with own_server() as base:
        run(base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
