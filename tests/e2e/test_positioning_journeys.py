"""Positioning tests on a phone (360 px), with JavaScript and without: Yasmine (Terminale) takes the
adaptive maths test one question per page (the keyboard with JavaScript: a letter then Enter, N for
"je ne sais pas"; a click on a choice and on the button without), a reload brings the same question
back, the test stops by itself within 30 questions, and the results page shows the SSN, the level,
the radar, the domain table and a PDF. Her parent sees the results; another parent gets 404. Staff
assign a test from the tests table.

The bilan: from the results page, the questionnaire, the progress bar (polled with JavaScript, the
"Actualiser" link without), ready; the parent reads the parents' bilan from the e-mailed link. The
live server has no LLM: the template bilans; a second gunicorn on the same database, whose LLM is
the test LLM server (tests/fakes/llm.py), shows the model's bilans.

Set NEXUS_SCREENSHOTS=<folder> to keep a screenshot of each page at 360 px and at 1280 px.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from sqlalchemy.engine import make_url

from tests.e2e.conftest import E2E_DATABASE, PHONE, LiveServer
from tests.e2e.server import start_gunicorn, stop
from tests.e2e.test_accessibility import assert_no_serious_violation
from tests.fakes.llm import FakeLLM
from tests.people import ADMIN, PARENT, PARENT2, YASMINE
from tests.servers import EmbeddedPostgres, body_text, free_port, wait_for_port

MAX_QUESTIONS = 30
WIDE = {"width": 1280, "height": 900}
RESULTS_URL = re.compile(r"/dashboard/positionnement/(\d+)$")
TITLE = "Mathématiques — Terminale"  # the test's title: subject and grade


# The deepest elements that stick out of the viewport (for the message of a failed width check).
WIDEST = """[...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(e => ![...e.children].some(
    c => c.getBoundingClientRect().right > document.documentElement.clientWidth + 1))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' '
    + Math.round(e.getBoundingClientRect().right) + 'px: ' + (e.textContent || '').trim().slice(0, 60))"""


def mode(request: pytest.FixtureRequest) -> str:
    """ "js" or "no-js": the `phone` this test runs on."""
    return str(request.node.callspec.params["phone"])


def shoot(page: Page, name: str) -> None:
    """A full-page screenshot at the phone's width and at 1280 px, when NEXUS_SCREENSHOTS is set."""
    folder = os.environ.get("NEXUS_SCREENSHOTS")
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    size = page.viewport_size or PHONE
    page.screenshot(path=os.path.join(folder, f"{name}-{size['width']}.png"), full_page=True)
    page.set_viewport_size(WIDE)
    page.screenshot(path=os.path.join(folder, f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(size)


def fits(page: Page, name: str, js: str) -> None:
    """Nothing wider than the phone; no serious accessibility violation (axe needs JavaScript: the
    markup is the same without it); the screenshots when asked."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        shoot(page, f"{name}-{js}-too-wide")
    assert width <= PHONE["width"], f"{name}: {width} px wide, because of {page.evaluate(WIDEST)}"
    if js == "js":
        assert_no_serious_violation(page)
    shoot(page, f"{name}-{js}")


def current_item(page: Page) -> str:
    return page.locator("form.question input[name='item']").get_attribute("value") or ""


def answer(page: Page, js: str, letter: str) -> None:
    """Answer the question on screen: with JavaScript the letter key then Enter, without a click
    on the choice's label then on the button."""
    form = page.locator("form.question")
    if js == "js":
        page.evaluate("document.activeElement && document.activeElement.blur()")  # no field has the focus
        page.keyboard.press(letter)
        expect(form.locator(f"input[name='choice'][value='{letter}']")).to_be_checked()
        page.keyboard.press("Enter")
    else:
        label = form.locator("label.choice").filter(has=page.locator(f"input[value='{letter}']"))
        label.click()
        expect(label.locator("input")).to_be_checked()
        form.get_by_role("button", name="Valider et continuer").click()


def letter_for(number: int) -> str:
    """Some "je ne sais pas" (N), the rest B or A."""
    return "N" if number % 5 == 2 else ("B" if number % 2 else "A")


def answer_until_done(
    page: Page, js: str, *, limit: int, finished: str, interrupt: Callable[[int], None] | None = None
) -> int:
    """Answer question after question until the page's h1 starts with `finished` (a regex); the number
    of questions answered (at most `limit`). `interrupt(number)` runs before each answer."""
    main = page.locator("main")
    number = 1
    while True:
        assert number <= limit, f"still questions after {limit}"
        if interrupt is not None:
            interrupt(number)
        answer(page, js, letter_for(number))
        expect(main).to_contain_text(re.compile(rf"Question {number + 1}\b|{finished}"))
        heading = page.get_by_role("heading", level=1)
        if heading.count() and re.match(finished, heading.first.text_content() or ""):
            return number
        number += 1


def start_the_maths_test(page: Page, js: str) -> str:
    """From Yasmine's positioning page; the test's URL."""
    page.goto("/dashboard/eleve/positionnement")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tests de positionnement")
    fits(page, "positioning-mine", js)
    page.get_by_role("button", name="Test de mathématiques").click()
    expect(page).to_have_url(re.compile(r"/dashboard/eleve/positionnement/\d+$"))
    expect(page.locator("main")).to_contain_text("Question 1 ·")
    return page.url


def take_the_maths_test(page: Page, js: str) -> int:
    """Yasmine, signed in, takes a maths test to its end (no interruption); the test's id."""
    start_the_maths_test(page, js)
    answered = answer_until_done(page, js, limit=MAX_QUESTIONS, finished="Résultats : ")
    assert answered <= MAX_QUESTIONS
    match = RESULTS_URL.search(page.url)
    assert match is not None
    return int(match.group(1))


@pytest.fixture
def results_of_a_test(
    request: pytest.FixtureRequest, phone: Page, sign_in: Callable[..., None]
) -> tuple[Page, str, int]:
    """Yasmine takes the maths test to its end, with a lost connection on the way; (page on her
    results, js or no-js, test id)."""
    js = mode(request)
    page = phone
    sign_in(page, YASMINE)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    test_url = start_the_maths_test(page, js)
    expect(page.locator("form.question label.choice")).to_have_count(5)  # A–D and "je ne sais pas"
    expect(page.locator("form.question")).to_contain_text("Je ne sais pas")
    fits(page, "positioning-question", js)

    def lose_the_connection(number: int) -> None:
        """At question 4 the same question comes back, on reload and from the list."""
        if number != 4:
            return
        item = current_item(page)
        page.reload()
        expect(page.locator("main")).to_contain_text("Question 4 ·")
        assert current_item(page) == item
        page.goto("/dashboard/eleve/positionnement")
        expect(page.locator("main")).to_contain_text("En cours")
        page.get_by_role("button", name="Test de mathématiques").click()
        expect(page).to_have_url(test_url)
        expect(page.locator("main")).to_contain_text("Question 4 ·")
        assert current_item(page) == item

    answered = answer_until_done(
        page, js, limit=MAX_QUESTIONS, finished="Résultats : ", interrupt=lose_the_connection
    )
    assert answered <= MAX_QUESTIONS  # the adaptive test stopped by itself
    match = RESULTS_URL.search(page.url)
    assert match is not None
    return page, js, int(match.group(1))


def test_yasmine_takes_the_maths_test_and_reads_her_results(
    results_of_a_test: tuple[Page, str, int],
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    page, js, test_id = results_of_a_test
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Résultats : {TITLE}")
    subject = page.get_by_role("heading", name=re.compile("^Mathématiques — "))
    card = main.locator("section.card").filter(has=subject)
    levels = "Excellence|Très solide|Stable|Fragile|Prioritaire"
    expect(card.get_by_role("heading", level=2)).to_have_text(re.compile(f"^Mathématiques — ({levels})$"))
    expect(card.locator(".kpi").first).to_contain_text(re.compile(r"[\d,]+ SSN sur 100 \(niveau "))
    expect(card.locator(".kpi").nth(1)).to_contain_text("indice de confiance")
    confidence = int((card.locator(".kpi-value").nth(1).text_content() or "").split()[0])
    assert 0 < confidence < 100  # some "je ne sais pas", not all
    radar = card.locator("figure.chart svg.chart-radar")
    expect(radar).to_have_attribute("role", "img")
    expect(radar.locator("title")).to_have_text("Maîtrise par domaine — Mathématiques")
    # CSS locators: a table stacked on phones (display: block) loses its table roles.
    caption = page.locator("caption", has_text="Maîtrise par domaine — Mathématiques")
    table = card.locator("table", has=caption)
    expect(table.locator("thead th").first).to_have_text("Domaine")
    expect(table.locator("thead")).to_contain_text("Maîtrise")
    expect(table.locator("tbody tr")).to_have_count(8)  # the eight Terminale domains
    expect(table).to_contain_text("Fonction logarithme")
    pdf = page.get_by_role("link", name="Télécharger en PDF")
    href = pdf.get_attribute("href")
    assert href == f"/dashboard/positionnement/{test_id}/resultats.pdf"
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    assert "Yasmine Ben Ali" in pdf_text and "Mathématiques" in pdf_text, pdf_text[:500]
    ssn = (card.locator(".kpi-value").first.text_content() or "").strip()
    assert re.search(rf"\bSSN\b.*\b{re.escape(ssn)}\b", pdf_text, re.S), pdf_text[:500]
    if os.environ.get("NEXUS_SCREENSHOTS"):
        Path(os.environ["NEXUS_SCREENSHOTS"], f"positioning-results-{js}.pdf").write_bytes(response.body())
    expect(page.get_by_role("link", name="Obtenir le bilan personnalisé")).to_be_visible()
    fits(page, "positioning-results", js)
    page.goto("/dashboard/eleve/positionnement")
    expect(main.locator(f"a[href='/dashboard/positionnement/{test_id}']")).to_have_text(TITLE)
    fits(page, "positioning-mine-done", js)
    sign_out(page)

    # Her parent sees them; another parent gets 404.
    sign_in(page, PARENT)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    page.goto("/dashboard/parent/positionnement")
    child = main.locator("section.card").filter(has=page.get_by_role("heading", name=re.compile("^Yasmine")))
    link = child.locator(f"a[href='/dashboard/positionnement/{test_id}']")
    expect(link).to_have_text(TITLE)
    expect(child).to_contain_text(re.compile(r"SSN [\d,]+ \("))
    fits(page, "positioning-parent", js)
    child.get_by_role("link", name="Évolution et détail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tests de positionnement de Yasmine Ben Ali")
    expect(main.locator("svg.chart")).not_to_have_count(0)  # the SSN over time
    fits(page, "positioning-parent-detail", js)
    page.go_back()
    link.click()
    expect(page).to_have_url(re.compile(rf"/dashboard/positionnement/{test_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Résultats : {TITLE}")
    expect(main.locator("svg.chart-radar")).to_have_count(1)
    fits(page, "positioning-results-parent", js)
    assert page.request.get(href).headers["content-type"] == "application/pdf"
    sign_out(page)

    sign_in(page, PARENT2)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    response = page.goto(f"/dashboard/positionnement/{test_id}")
    assert response is not None and response.status == 404
    assert page.request.get(href).status == 404


def test_staff_assign_a_test_and_see_the_tests_table(page: Page, sign_in: Callable[..., None]) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/dashboard/admin$"))
    page.get_by_role("navigation").get_by_role("link", name="Tests de positionnement").click()
    expect(page).to_have_url(re.compile(r"/dashboard/assistante/positionnement$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tests de positionnement")
    assign = page.locator("section.card", has=page.get_by_role("heading", name="Attribuer un test"))
    assign.get_by_label("Élève").select_option(label="Ben Ali Yasmine (Terminale)")
    assign.get_by_label("Matière").select_option(label="Test de NSI")
    assign.get_by_role("button", name="Attribuer").click()
    notice = "Test attribué à Yasmine Ben Ali (NSI — Terminale)."
    expect(page.get_by_role("status").first).to_contain_text(notice)
    table = page.locator("#tests-table")
    row = table.locator("tr", has_text="NSI — Terminale")
    expect(row).to_contain_text("Yasmine Ben Ali")
    expect(row).to_contain_text("À passer")
    fits(page, "positioning-staff", "js")


# -- the bilan ---------------------------------------------------------------------------------------


BILAN_LINK = re.compile(r"https?://[^/\s]+(/bilan/[\w.-]+)")


def mails(live_server: LiveServer, address: str, subject: str) -> list[str]:
    """The bodies of the e-mails to `address` whose subject holds `subject`, oldest first."""
    return [body_text(m) for m in live_server.smtp.to(address) if subject in str(m["Subject"])]


def wait_for_new_mail(
    live_server: LiveServer, address: str, subject: str, seen: int, timeout: float = 60
) -> str:
    """The body of the first e-mail `subject` to `address` after the `seen` already there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = mails(live_server, address, subject)
        if len(found) > seen:
            return found[seen]
        time.sleep(0.2)
    raise AssertionError(f"no new e-mail '{subject}' to {address}")


def wait_until_ready(page: Page, js: str, name: str) -> None:
    """The status page: the progress bar while the bilan is written (polled with JavaScript; the
    "Actualiser" link without), then "Le bilan est prêt"."""
    progress = page.locator("#bilan-progress")
    ready = progress.get_by_text("Le bilan est prêt.")
    if progress.locator("progress").count():
        expect(progress.get_by_text(re.compile(r"^Avancement : \d+ %$"))).to_be_visible()
        shoot(page, f"{name}-progress-{js}")
    if js == "js":
        expect(ready).to_be_visible(timeout=60_000)  # htmx polls every 2 s
        return
    deadline = time.monotonic() + 60
    while not ready.count():
        assert time.monotonic() < deadline, "the bilan is still not ready after 60 s"
        time.sleep(1)
        page.get_by_role("link", name="Actualiser").click()


def test_yasmine_asks_for_her_bilan_and_her_parent_reads_it_from_the_e_mail(
    request: pytest.FixtureRequest,
    phone: Page,
    live_server: LiveServer,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    js = mode(request)
    page = phone
    main = page.locator("main")
    sign_in(page, YASMINE)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    test_id = take_the_maths_test(page, js)
    priorities = main.locator(
        "section.card", has=page.get_by_role("heading", name="À travailler en priorité")
    )
    first_priority = (priorities.locator("li").first.text_content() or "").split(" — ")[0]
    assert first_priority, "no priority on the results page"

    page.get_by_role("link", name="Obtenir le bilan personnalisé").click()
    expect(page).to_have_url(re.compile(rf"/dashboard/positionnement/{test_id}/bilan$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bilan personnalisé")
    fits(page, "bilan-questionnaire", js)
    page.get_by_label("Établissement").fill("Lycée pilote de l'Ariana")
    page.get_by_label("Professeur de la matière").fill("M. Ben Salah")
    page.get_by_label("Moyenne de mathématiques (sur 20)").fill("11,5")
    page.get_by_label("Classement dans la classe").fill("12e sur 30")
    chapter = main.locator("fieldset", has=page.locator("legend", has_text=first_priority))
    chapter.get_by_label("Peu à l'aise").check()
    page.get_by_label("Objectifs pour cette année").fill("Obtenir une mention au bac et entrer en prépa.")
    parents_seen = len(mails(live_server, PARENT, "Le bilan de Yasmine est prêt"))
    page.get_by_role("button", name="Demander le bilan").click()

    status_url = re.compile(rf"/dashboard/positionnement/{test_id}/bilan$")
    expect(page).to_have_url(status_url)
    expect(page.locator("#bilan-progress")).to_be_visible()
    wait_until_ready(page, js, "bilan-status")
    page.reload()  # the page survives a reload
    expect(page.locator("#bilan-progress")).to_contain_text("Le bilan est prêt.")
    fits(page, "bilan-ready", js)
    page.get_by_role("link", name="Lire mon bilan").click()
    expect(page).to_have_url(re.compile(r"/bilan/[\w.-]+$"))
    expect(main.locator(".eyebrow")).to_have_text("Ton bilan personnalisé")
    expect(main.locator(".prose")).to_contain_text(first_priority)
    expect(main).to_contain_text("Bilan établi automatiquement à partir des résultats du test.")  # no LLM
    fits(page, "bilan-read-student", js)
    sign_out_or_leave(page, sign_out)

    # The parent reads the parents' bilan from the e-mail, without signing in.
    body = wait_for_new_mail(live_server, PARENT, "Le bilan de Yasmine est prêt", parents_seen)
    link = BILAN_LINK.search(body)
    assert link is not None, body
    page.goto(link.group(1))
    expect(main.locator(".eyebrow")).to_have_text("Bilan pour les parents")
    prose = main.locator(".prose")
    expect(prose).to_contain_text(first_priority)  # each top priority is named
    text = prose.text_content() or ""
    assert not re.search(r"\bSSN\b|\bUAI\b|θ|\d\s*%", text), text  # no raw score for the parents
    expect(main).to_contain_text("Bilan établi automatiquement à partir des résultats du test.")
    fits(page, "bilan-read-parents", js)
    # A tampered link shows no text.
    response = page.goto(link.group(1)[:-3] + "xyz")
    assert response is not None and response.status in (403, 404, 410)
    expect(main.locator(".prose")).to_have_count(0)


def sign_out_or_leave(page: Page, sign_out: Callable[[Page], None]) -> None:
    """Back on a dashboard page and signed out (the bilan's page has no sign-out button)."""
    page.goto("/dashboard/eleve")
    sign_out(page)


# -- the bilan written by the language model (the test LLM server) ---------------------------------

# One reply for the three audiences that passes every check: it names the eight chapters of
# Terminale (so every priority), states no number, says "ton"/"ta" but never "tu", and "vous".
LLM_REPLY = (
    "## Le bilan rédigé pour Yasmine\n\n"
    "Voici ton bilan, que vous pourrez aussi lire en famille. Le test a parcouru tout le programme de "
    "mathématiques de Terminale : Récurrence et suites, Limites et continuité, Dérivation et convexité, "
    "Fonction logarithme, Primitives, équations différentielles et intégration, Dénombrement, "
    "Probabilités et loi binomiale, Géométrie dans l'espace. Chaque chapitre a compté, et ta façon de "
    "répondre honnêtement, même quand la question résistait, rend ce bilan vraiment utile.\n\n"
    "### Ce qui vient en premier\n\n"
    "Les chapitres les moins assurés passent en premier : reprendre les définitions, refaire les "
    "exemples du cours, puis des exercices courts chaque jour. Un chapitre à la fois, sans se "
    "disperser, avec une fiche de synthèse à la fin de chaque semaine de travail.\n\n"
    "### Comment avancer\n\n"
    "Ta régularité fera la différence : un travail court mais quotidien vaut mieux que de longues "
    "séances espacées. Votre coach proposera un plan sur quelques semaines, puis un nouveau test pour "
    "mesurer les progrès réalisés. Nous restons à votre disposition pour en parler ensemble et "
    "répondre à vos questions, dès que vous le souhaitez, au centre ou par message."
)


def app_database_url(pg: EmbeddedPostgres | None) -> str:
    """The live server's database (the same data, not a fresh copy), as the app wants it."""
    if pg is not None:
        return pg.database(E2E_DATABASE, fresh=False)
    url = make_url(os.environ["TEST_DATABASE_URL"]).set(database=E2E_DATABASE)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def llm_app(live_server: LiveServer, pg: EmbeddedPostgres | None) -> Iterator[tuple[str, FakeLLM]]:
    """A second gunicorn on the live server's database, whose LLM is the test LLM server."""
    fake = FakeLLM(reply=LLM_REPLY, chunk_delay=0.0)
    fake.start()
    port = free_port()
    saved = os.environ.get("OPENAI_BASE_URL")
    os.environ["OPENAI_BASE_URL"] = fake.url
    try:
        instance = Path(tempfile.mkdtemp(prefix="nx-e2e-llm-"))
        proc = start_gunicorn(app_database_url(pg), instance, port, smtp_port=live_server.smtp.port)
    finally:
        if saved is None:
            os.environ.pop("OPENAI_BASE_URL", None)
        else:
            os.environ["OPENAI_BASE_URL"] = saved
    try:
        wait_for_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}", fake
    finally:
        stop(proc)
        fake.stop()


def test_with_a_language_model_the_bilans_are_the_models(
    browser: Browser,
    browser_context_args: dict[str, Any],
    llm_app: tuple[str, FakeLLM],
    live_server: LiveServer,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    url, fake = llm_app
    context = browser.new_context(**{**browser_context_args, "base_url": url, "viewport": PHONE})
    try:
        page = context.new_page()
        main = page.locator("main")
        sign_in(page, YASMINE)
        expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
        test_id = take_the_maths_test(page, "js")
        page.get_by_role("link", name="Obtenir le bilan personnalisé").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Bilan personnalisé")
        page.get_by_label("Objectifs pour cette année").fill("Réussir le bac avec une mention.")
        parents_seen = len(mails(live_server, PARENT, "Le bilan de Yasmine est prêt"))
        page.get_by_role("button", name="Demander le bilan").click()
        expect(page).to_have_url(re.compile(rf"/dashboard/positionnement/{test_id}/bilan$"))
        wait_until_ready(page, "js", "bilan-llm")
        assert len(fake.chat_requests) >= 3  # one text per audience, at least
        page.get_by_role("link", name="Lire mon bilan").click()
        expect(main.locator(".prose")).to_contain_text(
            "Voici ton bilan, que vous pourrez aussi lire en famille."
        )
        expect(main).not_to_contain_text("Bilan établi automatiquement")
        shoot(page, "bilan-read-student-llm")
        page.goto("/dashboard/eleve")
        sign_out(page)

        body = wait_for_new_mail(live_server, PARENT, "Le bilan de Yasmine est prêt", parents_seen)
        link = BILAN_LINK.search(body)
        assert link is not None and body.count(url) >= 1, body  # the link points at this server
        page.goto(link.group(1))
        expect(main.locator(".eyebrow")).to_have_text("Bilan pour les parents")
        expect(main.locator(".prose")).to_contain_text("Nous restons à votre disposition")
        expect(main).not_to_contain_text("Bilan établi automatiquement")

        sign_in(page, ADMIN)
        expect(page).to_have_url(re.compile(r"/dashboard/admin$"))
        page.goto("/dashboard/assistante/bilans-generes")
        row = main.locator("#bilans-generes tr", has_text="Yasmine Ben Ali").first
        expect(row).to_contain_text("Prêt")
        expect(row).to_contain_text("Modèle de langage")
        shoot(page, "bilans-staff-llm")
    finally:
        context.close()
