"""Running the centre in Chromium (issue 13's "Done when"):

1. the admin reads revenue and analytics with their SVG charts and downloads CSVs, parsed here as
   LibreOffice opens them (UTF-8 with a BOM, ";", decimal comma) and checked against the seeded
   data and against the figures the page shows;
2. the assistante files a PDF into Sami's vault (search the person, title, kind, file), with
   JavaScript and without; Sami downloads it (the same bytes), Hichem sees it, Nadia gets 404;
3. a card payment whose family never came back from ClicToPay is fulfilled by the reconciliation
   job: a second gunicorn on the live server's database talks to the local fake gateway
   (tests/fakes/clictopay.py); the order is paid there, the payment made 16 minutes old, the job
   run, and Nadia sees Yasmine's plan active and its invoice;
4. Hichem is warned a week before Sami's plan lapses (its end moved to 7 days ahead, the notice
   job run twice): the bell, and one e-mail whose renewal link opens the order;
5. the operations page shows a failed e-mail with its error; the admin retries it, with
   JavaScript and without, and the SMTP sink receives it.

The periodic jobs run here as `flask jobs run NAME` runs them (nexus.jobs.schedule.JOBS: a job
missing there never runs in production), in this process, on the live server's database. The new
pages are looked at 360 px and 1280 px (`look`; NEXUS_SCREENSHOTS=<folder> keeps screenshots).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from playwright.sync_api import Browser, Download, Locator, Page, expect
from sqlalchemy.engine import make_url

from tests.e2e.conftest import PHONE, LiveServer
from tests.e2e.server import SECRET_KEY, start_gunicorn, stop
from tests.e2e.test_booking_journey import e2e_database
from tests.e2e.test_positioning_journeys import app_database_url
from tests.e2e.test_progress_journeys import (  # noqa: F401 (fixtures)
    look,
    new_page,
    no_problem,
    patient_expect,
    sign_in_as,
)
from tests.fakes.clictopay import PASSWORD, USERNAME, FakeClicToPay
from tests.people import ADMIN, ASSISTANTE, PARENT, PARENT2, SAMI
from tests.servers import EmbeddedPostgres, SmtpSink, body_text, free_port, wait_for_port

MODES = ["js", "no-js"]
LAPSE_SUBJECT = re.compile(r"La formule \w+ de Sami se termine dans 7 jours")

# A small valid one-page PDF (what a scanned school report would be).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


# ---- the live server's database and jobs, from this process ----


def sql(pg: EmbeddedPostgres | None, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """One statement on the live server's database (time passing, a failure happening)."""
    with psycopg.connect(e2e_database(pg), autocommit=True) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


@contextmanager
def centre_app(pg: EmbeddedPostgres | None, public_url: str, smtp: SmtpSink, instance: Path,
               **config: Any) -> Iterator[Flask]:  # fmt: skip
    """The app on the live server's database, as `flask jobs run` makes it; e-mails to the sink."""
    from nexus import create_app
    from nexus.extensions import db

    url = make_url(e2e_database(pg)).set(drivername="postgresql+psycopg")
    app = create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "SECRET_KEY": SECRET_KEY,
            "PUBLIC_URL": public_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            **config,
        }
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def run_job(name: str) -> Any:
    """One periodic job by its name, as `flask jobs run NAME` runs it (it must be scheduled)."""
    from nexus.jobs.schedule import JOBS

    assert name in JOBS, f"{name} is not a periodic job: known {sorted(JOBS)}"
    return JOBS[name]()


def csv_rows(download: Download) -> list[dict[str, str]]:
    """A downloaded CSV as LibreOffice opens it in French: UTF-8 with a BOM, ";" between cells."""
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), f"{download.suggested_filename}: no byte-order mark"
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";")
    rows = list(reader)
    assert reader.fieldnames and len(reader.fieldnames) > 1, f"not ';'-separated: {reader.fieldnames}"
    return rows


def download_csv(page: Page, link: Locator) -> list[dict[str, str]]:
    """Click a CSV link (the person's own cookies) and parse what the browser saved."""
    with page.expect_download() as info:
        link.click()
    return csv_rows(info.value)


def csv_tnd(cell: str) -> int:
    """A CSV amount in dinars with a decimal comma, no thousands separator ("450,000")."""
    assert re.fullmatch(r"-?\d+,\d{3}", cell), f"not a French amount: {cell!r}"
    whole, frac = cell.split(",")
    return int(whole) * 1000 + int(frac)


def page_tnd(text: str) -> int:
    """An amount as a page shows it ("1 080,500 TND", "450 TND") in millimes."""
    digits = re.sub(r"[\s\u202f\u00a0]|TND", "", text)
    whole, _, frac = digits.partition(",")
    return int(whole) * 1000 + int((frac + "000")[:3])


def mail_to(smtp: SmtpSink, address: str, subject: re.Pattern[str], timeout: float = 30) -> list[Any]:
    """The e-mails to `address` whose subject matches, once one has arrived (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in smtp.to(address) if subject.search(str(m["Subject"]))]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.fixture
def wide(request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer,
         browser_context_args: dict[str, Any]) -> Iterator[Page]:  # fmt: skip
    """A 1280 px page, without JavaScript when the test's `js` parameter says "no-js"."""
    js = request.node.callspec.params.get("js", "js") == "js"
    context, page = new_page(browser, live_server, browser_context_args, js=js)
    try:
        yield page
    finally:
        context.close()


# ---- 1. the admin's figures, analytics and CSVs ----


def check_figure(section: Locator) -> None:
    """A server-made SVG chart with its words, and its table one click away."""
    chart = section.locator("svg[role='img']").first
    expect(chart).to_be_visible()
    expect(chart).to_have_accessible_name(re.compile(r"\w"))
    section.locator("details.data > summary").first.click()
    expect(section.locator("table").first).to_be_visible()


def test_the_admin_reads_revenue_and_analytics_and_downloads_csvs(wide: Page) -> None:
    page = wide
    problems: list[str] = []
    sign_in_as(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/dashboard/admin$"))
    main = page.locator("main")
    expect(main.locator(".kpi-label").first).to_contain_text("Chiffre d'affaires de")
    check_figure(
        main.locator("section", has=page.get_by_role("heading", name="Chiffre d'affaires sur 12 mois"))
    )
    check_figure(main.locator("section", has=page.get_by_role("heading", name="Séances sur 12 mois")))
    look(page, "admin-home", problems)
    main.get_by_role("link", name="Toutes les analyses").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Analyses")

    for periode, label in (("mois", "Mois"), ("trimestre", "Trimestre"), ("annee", "Année")):
        page.locator("nav.period-switch").get_by_role("link", name=re.compile(label, re.I)).click()
        expect(page).to_have_url(re.compile(rf"periode={periode}"))
        expect(page.locator("nav.period-switch [aria-current=page]")).to_have_count(1)
        expect(main.locator("#revenus")).to_be_visible()
        look(page, f"admin-analytics-{periode}", problems)

    # The year's revenue by offer: the CSV adds up to the page's figure, with Sami's paid plan.
    revenue = main.locator("#revenus")
    check_figure(revenue)
    shown = page_tnd(main.locator(".kpi", has_text="Chiffre d'affaires (").locator(".kpi-value").inner_text())
    rows = download_csv(page, revenue.get_by_role("link", name=re.compile(r"CSV")))
    assert sum(csv_tnd(r["Montant (TND)"]) for r in rows) == shown, rows
    hybride = [r for r in rows if r["Offre"] == "Hybride"]
    assert hybride and csv_tnd(hybride[0]["Montant (TND)"]) >= 450_000, rows
    assert int(hybride[0]["Paiements"]) >= 1, rows
    # Every other section downloads a table of its own.
    for section in ("#abonnements", "#seances", "#credits", "#aria", "#resultats"):
        link = main.locator(section).get_by_role("link", name=re.compile(r"CSV")).first
        download_csv(page, link)

    # A staff table's export carries its filter: the students found for "Gharbi", Sami alone.
    page.goto("/dashboard/assistante/eleves?q=Gharbi")
    table = main.locator(".results").first
    expect(table).to_contain_text("Sami Gharbi")
    rows = download_csv(page, table.get_by_role("link", name="Télécharger (CSV)"))
    assert [r["Élève"] for r in rows] == ["Sami Gharbi"], rows
    sami = rows[0]
    assert (sami["Parent"], sami["E-mail du parent"]) == ("Hichem Gharbi", PARENT2), sami
    assert (sami["E-mail de l'élève"], sami["Classe"], sami["Compte activé"]) == (SAMI, "Première", "oui")
    assert re.fullmatch(r"\d+(,\d+)?", sami["Solde de crédits"]), sami
    no_problem(problems)


# ---- 2. the vault: the assistante files a document, Sami downloads it ----


def file_for_sami(page: Page, title: str, pdf: Path, js: str, problems: list[str]) -> None:
    """The assistante finds Sami in the search, then files the PDF in his space."""
    sign_in_as(page, ASSISTANTE)
    page.goto("/dashboard/assistante/documents")
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents des familles")
    look(page, f"staff-documents-{js}", problems)
    page.get_by_role("searchbox", name="Rechercher").fill("Gharbi")
    page.get_by_role("button", name="Filtrer").click()
    choose = page.get_by_role("link", name="Choisir Sami Gharbi")
    expect(choose).to_be_visible()
    choose.click()
    expect(page.get_by_role("heading", name="Espace de Sami Gharbi")).to_be_visible()
    person = page.get_by_label(re.compile("^Personne"))
    if not person.input_value():  # chosen in the search: the form may not repeat the name
        person.fill(SAMI)
    page.get_by_label("Titre", exact=True).fill(title)
    page.get_by_label("Type de document").select_option(label="Bulletin scolaire")
    page.get_by_label(re.compile("^Fichier")).set_input_files(str(pdf))
    page.get_by_role("button", name="Déposer le document").click()
    expect(page.locator("main")).to_contain_text(f"« {title} » a été déposé")
    space = page.locator("#espace")
    expect(space).to_contain_text(title)
    look(page, f"staff-documents-filed-{js}", problems)


@pytest.mark.parametrize("js", MODES)
def test_the_assistante_files_a_document_that_sami_downloads(
    browser: Browser, live_server: LiveServer, browser_context_args: dict[str, Any], tmp_path: Path, js: str
) -> None:
    problems: list[str] = []
    title = f"Bulletin du 1er trimestre ({js})"
    pdf = tmp_path / f"bulletin-{js}.pdf"
    pdf.write_bytes(PDF + f"% {js}\n".encode())
    context, staff = new_page(browser, live_server, browser_context_args, js=js == "js")
    try:
        file_for_sami(staff, title, pdf, js, problems)
    finally:
        context.close()

    # Sami, on his phone, finds it among his documents and downloads the very bytes sent.
    context, page = new_page(browser, live_server, browser_context_args, js=js == "js", viewport=PHONE)
    try:
        sign_in_as(page, SAMI)
        page.get_by_role("link", name="Documents").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Mes documents")
        link = page.get_by_role("link", name=title)
        expect(link).to_be_visible()
        href = link.get_attribute("href") or ""
        look(page, f"student-documents-{js}", problems)
        with page.expect_download() as info:
            link.click()
        assert Path(info.value.path()).read_bytes() == pdf.read_bytes()
        assert info.value.suggested_filename == pdf.name
    finally:
        context.close()

    # His father sees it in the family's documents; Nadia, another family, gets 404 on its address.
    context, page = new_page(browser, live_server, browser_context_args, js=js == "js", viewport=PHONE)
    try:
        sign_in_as(page, PARENT2)
        page.goto("/dashboard/parent/ressources")
        item = page.locator("li", has=page.get_by_role("link", name=title))
        expect(item).to_contain_text("Pour Sami")
        look(page, f"parent-documents-{js}", problems)
        assert page.request.get(href).body() == pdf.read_bytes()
        page.goto("/notifications")  # told in the bell
        expect(page.locator("#notification-list")).to_contain_text(f"Nouveau document pour Sami : {title}")
    finally:
        context.close()
    context, page = new_page(browser, live_server, browser_context_args)
    try:
        sign_in_as(page, PARENT)
        assert page.request.get(href).status == 404
        page.goto("/dashboard/parent/ressources")
        expect(page.locator("main")).not_to_contain_text(title)
    finally:
        context.close()
    no_problem(problems)


# ---- 3. a card payment fulfilled by the reconciliation job ----


@pytest.fixture(scope="module")
def card_app(
    live_server: LiveServer, pg: EmbeddedPostgres | None
) -> Iterator[tuple[str, FakeClicToPay, Path]]:
    """A second gunicorn on the live server's database whose card gateway is the local fake."""
    gateway = FakeClicToPay()
    gateway.start()
    port = free_port()
    names = ("CLICTOPAY_URL", "CLICTOPAY_USERNAME", "CLICTOPAY_PASSWORD")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(dict(zip(names, (gateway.api_url, USERNAME, PASSWORD), strict=True)))
    instance = Path(tempfile.mkdtemp(prefix="nx-e2e-card-"))
    try:
        proc = start_gunicorn(app_database_url(pg), instance, port, smtp_port=live_server.smtp.port)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}", gateway, instance
    finally:
        stop(proc)
        gateway.stop()


def pay_by_card(page: Page, gateway: FakeClicToPay) -> str:
    """On the order's page: "Payer … par carte"; the gateway's new order id."""
    subject = page.locator("#aria_subject_card")
    if subject.count():
        subject.select_option("MATHEMATIQUES")
    known = set(gateway.orders)
    page.get_by_role("button", name=re.compile("par carte$")).click()
    deadline = time.monotonic() + 15
    while not set(gateway.orders) - known and time.monotonic() < deadline:
        time.sleep(0.1)
    (order_id,) = set(gateway.orders) - known
    return order_id


@pytest.mark.parametrize("js", MODES)
def test_the_card_button_opens_the_gateways_page(
    browser: Browser, browser_context_args: dict[str, Any], card_app: tuple[str, FakeClicToPay, Path], js: str
) -> None:
    """The family is sent on to ClicToPay's page: a redirect the page's CSP (form-action) must
    allow, and that htmx must leave to the browser."""
    url, gateway, _ = card_app
    options = {**browser_context_args, "base_url": url, "viewport": PHONE, "java_script_enabled": js == "js"}
    context = browser.new_context(**options)
    page = context.new_page()
    try:
        sign_in_as(page, PARENT)
        page.goto("/dashboard/parent/abonnements")
        yasmine = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Yasmine")))
        yasmine.locator("summary", has_text="Packs de crédits").click()  # folded away at first
        # One pack per mode: a card attempt left pending hides that order's payment forms for an hour.
        pack = "5 crédits" if js == "js" else "10 crédits"
        yasmine.get_by_role("link", name=re.compile(rf"^Choisir {pack} pour Yasmine")).click()
        order_id = pay_by_card(page, gateway)
        expect(page.get_by_role("heading", name="Paiement par carte")).to_be_visible()
        assert f"mdOrder={order_id}" in page.url
    finally:
        context.close()


def test_a_card_payment_whose_family_never_came_back_is_fulfilled_by_the_job(
    browser: Browser,
    browser_context_args: dict[str, Any],
    live_server: LiveServer,
    pg: EmbeddedPostgres | None,
    card_app: tuple[str, FakeClicToPay, Path],
) -> None:
    url, gateway, instance = card_app
    problems: list[str] = []
    family = browser.new_context(**{**browser_context_args, "base_url": url, "viewport": PHONE})
    staff = browser.new_context(
        **{**browser_context_args, "base_url": url, "viewport": {"width": 1280, "height": 900}}
    )
    try:
        page = family.new_page()
        sign_in_as(page, PARENT)
        page.goto("/dashboard/parent/abonnements")
        page.get_by_role("link", name=re.compile(r"^(Choisir|Renouveler) Immersion pour Yasmine")).click()
        expect(page.get_by_role("heading", name="Payer par carte bancaire")).to_be_visible()
        order_id = pay_by_card(page, gateway)
        # The family paid on the gateway's page… and closed the tab without coming back.
        gateway.set_status(order_id, "paid")
        ((payment_id, reference),) = sql(
            pg, "SELECT id, reference FROM payments WHERE external_id = %s AND status = 'PENDING'", order_id
        )
        page.goto("/dashboard/parent/paiements")
        expect(page.locator("main")).to_contain_text("En attente")
        look(page, "parent-payments-card-pending", problems)

        # The staff see it beside the transfers, not yet checked with the bank.
        desk = staff.new_page()
        sign_in_as(desk, ASSISTANTE)
        desk.goto("/dashboard/assistante/paiements")
        row = desk.locator(f"#card-payment-{payment_id}")
        expect(row).to_contain_text(reference)
        expect(row).to_contain_text("Pas encore vérifié auprès de la banque")
        look(desk, "staff-payments-card-pending", problems)

        # Before 15 minutes the job leaves the order alone; after, it asks the gateway once.
        config = {
            "CLICTOPAY_URL": gateway.api_url,
            "CLICTOPAY_USERNAME": USERNAME,
            "CLICTOPAY_PASSWORD": PASSWORD,
        }
        with centre_app(pg, url, live_server.smtp, instance, **config):
            run_job("reconcile_card_payments")
            assert gateway.asked.get(order_id, 0) == 0, "an order younger than 15 minutes was asked about"
            moved = sql(
                pg,
                "UPDATE payments SET created_at = created_at - interval '16 minutes'"
                " WHERE id = %s AND status = 'PENDING' RETURNING id",
                payment_id,
            )
            assert moved, "the card payment was settled before the job ran"
            run_job("reconcile_card_payments")
            run_job("reconcile_card_payments")  # a second run asks nothing more
        assert gateway.asked.get(order_id) == 1, gateway.asked
        assert sql(pg, "SELECT status FROM payments WHERE id = %s", payment_id) == [("COMPLETED",)]

        page.goto("/dashboard/parent")
        card = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("^Yasmine")))
        expect(card).to_contain_text("Immersion")
        page.goto("/dashboard/parent/paiements")
        line = page.locator("tr", has_text=reference)
        expect(line).to_contain_text("Validé")
        look(page, "parent-payments-card-done", problems)
        invoice = line.get_by_role("link", name=re.compile("Facture")).first
        if not invoice.count():
            invoice = page.get_by_role("link", name="Facture (PDF)").first
        response = page.request.get(invoice.get_attribute("href") or "")
        assert response.status == 200
        assert response.body().startswith(b"%PDF")

        desk.reload()
        expect(desk.locator(f"#card-payment-{payment_id}")).to_have_count(0)
    finally:
        family.close()
        staff.close()
    no_problem(problems)


# ---- 4. a family warned before its plan lapses ----


@pytest.fixture
def phone_page(
    browser: Browser, live_server: LiveServer, browser_context_args: dict[str, Any]
) -> Iterator[Page]:
    context, page = new_page(browser, live_server, browser_context_args, viewport=PHONE)
    try:
        yield page
    finally:
        context.close()


def test_a_family_is_warned_a_week_before_its_plan_lapses(
    phone_page: Page, live_server: LiveServer, pg: EmbeddedPostgres | None, tmp_path: Path
) -> None:
    page = phone_page
    problems: list[str] = []
    ((sub_id, end),) = sql(
        pg,
        "SELECT id, current_period_end FROM subscriptions WHERE status = 'ACTIVE' AND student_id ="
        " (SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = %s)",
        SAMI,
    )
    sql(
        pg,
        "UPDATE subscriptions SET current_period_end = now() + interval '7 days' - interval '1 hour'"
        " WHERE id = %s",
        sub_id,
    )
    try:
        with centre_app(pg, live_server.url, live_server.smtp, tmp_path):
            run_job("send_subscription_notices")
            run_job("send_subscription_notices")  # told once
            run_job("flush_outbox")
        notices = mail_to(live_server.smtp, PARENT2, LAPSE_SUBJECT)
        time.sleep(1)  # a second e-mail, if any, has had its time to arrive
        notices = mail_to(live_server.smtp, PARENT2, LAPSE_SUBJECT)
        assert len(notices) == 1, f"{len(notices)} notices to Hichem"
        text = body_text(notices[0])
        renew = [link for link in re.findall(r"https?://\S+", text) if link.startswith(live_server.url)]
        assert renew, f"no link to the site in {text}"

        sign_in_as(page, PARENT2)
        expect(page.locator("a.bell")).to_have_accessible_name(re.compile(r"^Notifications \d+"))
        page.goto("/notifications")
        notice = page.locator("#notification-list li", has_text=LAPSE_SUBJECT)
        expect(notice).to_have_count(1)
        expect(notice).to_contain_text("Renouvelez-la en un clic")
        look(page, "parent-lapse-notice", problems)
        notice.get_by_role("button", name="Ouvrir").click()
        expect(page.get_by_role("heading", name="Récapitulatif de la commande")).to_be_visible()
        expect(page.locator("main")).to_contain_text("Sami")
        # The e-mail's link (signed in: the same order page).
        assert page.request.get(renew[0]).status == 200
        page.goto(renew[0])
        expect(page.get_by_role("heading", name="Récapitulatif de la commande")).to_be_visible()
    finally:
        sql(pg, "UPDATE subscriptions SET current_period_end = %s WHERE id = %s", end, sub_id)
    no_problem(problems)


# ---- 5. operations: a failed e-mail retried ----


def failed_email(pg: EmbeddedPostgres | None, subject: str, error: str) -> None:
    """An e-mail the outbox gave up on after its eight attempts (the SMTP server was down)."""
    sql(
        pg,
        "INSERT INTO outbox_emails (to_email, template, subject, context, status, attempts,"
        " last_error, next_attempt_at) VALUES (%s, 'contact_staff', %s, %s::jsonb, 'FAILED', 8, %s, now())",
        ADMIN,
        subject,
        '{"id": 1, "name": "Hichem Gharbi", "email": "parent2@nexus-reussite.tn", "phone": null,'
        ' "topic": "Bilan", "message": "Pouvez-vous me renvoyer le bilan de Sami ?"}',
        error,
    )


@pytest.mark.parametrize("js", MODES)
def test_the_admin_retries_a_failed_email_from_the_operations_page(
    wide: Page, live_server: LiveServer, pg: EmbeddedPostgres | None, js: str
) -> None:
    page = wide
    problems: list[str] = []
    subject = f"Demande de bilan ({js}, {datetime.now(UTC):%H%M%S%f})"
    failed_email(pg, subject, "SMTPServerDisconnected: Connection unexpectedly closed")
    sign_in_as(page, ADMIN)
    page.goto("/dashboard/admin/operations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Santé de la plateforme")
    row = page.locator("tr", has_text=subject)
    expect(row).to_contain_text("Connection unexpectedly closed")
    expect(row.locator("td[data-label='Essais']")).to_have_text("8")
    look(page, f"admin-operations-{js}", problems)
    row.get_by_role("button", name=re.compile("^Réessayer")).click()
    if js == "js":
        expect(row.get_by_role("button", name=re.compile("^Réessayer"))).to_have_count(0)
    delivered = mail_to(live_server.smtp, ADMIN, re.compile(re.escape(subject)))
    assert len(delivered) == 1, f"« {subject} » delivered {len(delivered)} times"
    assert "Pouvez-vous me renvoyer le bilan de Sami ?" in body_text(delivered[0])
    page.goto("/dashboard/admin/operations")
    expect(page.locator("tr", has_text=subject)).to_have_count(0)
    if js == "js":
        page.get_by_role("button", name="M'envoyer un e-mail de test").click()
        assert mail_to(live_server.smtp, ADMIN, re.compile("test", re.I)), "no test e-mail"
    no_problem(problems)
