"""Progress in Chromium (issue 12): Hélios's page of Sami's trajectory (proposed from Sami's test
and agreed with the family; Hélios proposes it when the demo has none); Sami's parent (Hichem,
PARENT2) sees on his home page, per child, the Nexus Index with what it is made of, the badges, the
trajectory and the SVG chart — the chart a lazy panel with JavaScript, a working link without; the
parent's and the student's trajectory pages; Sami's own home. Then every demo account's next-step
button opens a page that answers 200.

The live server seeds the accounts only (no history under a test run): `demo_history` adds the
demo's history as `make run` has it (nexus/seed.py: Sami's past sessions with Hélios, their reports,
a finished maths test, his trajectory, every index and badges), so Sami's index is a number, not
"pas encore assez de données".

`look` checks each page at 360 px (nothing sticks out sideways) and, with JavaScript, its own
stylesheets and axe; NEXUS_SCREENSHOTS=<folder> keeps a screenshot of each at 360 px and 1280 px.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlalchemy.engine import make_url

from tests.e2e.conftest import PHONE, LiveServer
from tests.e2e.server import SECRET_KEY
from tests.e2e.test_accessibility import assert_no_serious_violation
from tests.e2e.test_booking_journey import e2e_database
from tests.e2e.test_positioning_journeys import WIDEST, mode
from tests.people import ADMIN, ASSISTANTE, DEMO_PASSWORD, HELIOS, PARENT, PARENT2, SAMI, YASMINE, ZENON
from tests.servers import EmbeddedPostgres

WIDE = {"width": 1280, "height": 900}
TRAJECTORY = "Viser 14 de moyenne en mathématiques"
LEVELS = "Excellent|Bon|En progression|À renforcer|Débutant"
PARTS = ("Assiduité (30 %)", "Progression (30 %)", "Engagement (20 %)", "Régularité (20 %)")


# ---- helpers shared by the issue 12 journeys (messaging and ARIA import them) ----


@pytest.fixture(scope="module", autouse=True)
def patient_expect() -> Iterator[None]:
    """A busy machine (several servers and browsers at once) can take more than expect's 5 s to
    answer a page: 15 s here, back to the default afterwards."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


def new_page(browser: Browser, live_server: LiveServer, args: dict[str, Any], *, js: bool = True,
             viewport: dict[str, int] = WIDE) -> tuple[BrowserContext, Page]:  # fmt: skip
    """A page in a context of its own (another person's browser)."""
    options = {**args, "base_url": live_server.url, "viewport": viewport, "java_script_enabled": js}
    context = browser.new_context(**options)
    return context, context.new_page()


def sign_in_as(page: Page, email: str) -> None:
    """The sign-in form filled by its labels; waits until the person's page is shown."""
    page.goto("/auth/signin")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(re.compile(r"/dashboard/\w+$"))


def look(page: Page, name: str, problems: list[str]) -> None:
    """At 360 px: nothing wider than the phone; with JavaScript, no serious axe violation; then a
    screenshot at 360 px and 1280 px when NEXUS_SCREENSHOTS is set. What is wrong is added to
    `problems` (the journey goes on; the test asserts the list is empty at its end)."""
    size = page.viewport_size or WIDE
    js = page.evaluate("typeof window.htmx !== 'undefined'")  # htmx runs on every page with JavaScript
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"{name}: {width} px wide at 360 px, because of {page.evaluate(WIDEST)}")
    if js:
        missing = missing_stylesheets(page)
        if missing:
            problems.append(f"{name}: stylesheets of the page not loaded after htmx's navigation: {missing}")
        try:
            assert_no_serious_violation(page)
        except AssertionError as err:
            problems.append(f"{name}: {err}")
    folder = os.environ.get("NEXUS_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}-360.png"), full_page=True)
        page.set_viewport_size(WIDE)
        page.screenshot(path=os.path.join(folder, f"{name}-1280.png"), full_page=True)
    page.set_viewport_size(size)


STYLESHEETS = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


def missing_stylesheets(page: Page) -> list[str]:
    """The stylesheets the page's own HTML asks for that the document has not loaded (a boosted
    link swaps the body only: a page's extra stylesheet in <head> must still arrive)."""
    html = page.request.get(page.url).text()
    loaded = page.evaluate(
        "[...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.getAttribute('href'))"
    )
    return [href for href in STYLESHEETS.findall(html) if href not in loaded]


def no_problem(problems: list[str]) -> None:
    assert not problems, "\n".join(problems)


# ---- the demo's history, then Hélios proposes Sami's trajectory ----


@pytest.fixture(scope="module")
def demo_history(
    live_server: LiveServer, pg: EmbeddedPostgres | None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The seed's history of `make run` (Sami's sessions, reports, test and trajectory; indexes and
    badges) in the live server's database; the seed adds it once, Sami's index is computed again."""
    from sqlalchemy import select

    from nexus import create_app, seed
    from nexus.extensions import db
    from nexus.models.family import Student
    from nexus.models.identity import User
    from nexus.services import progress

    url = (
        make_url(e2e_database(pg)).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    )
    instance = tmp_path_factory.mktemp("history")
    app = create_app(
        {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY}
    )
    with app.app_context():
        seed._seed_history()
        sami = db.session.scalar(
            select(Student).join(User, User.id == Student.user_id).where(User.email == SAMI)
        )
        assert sami is not None
        progress.index.compute(sami.id, "e2e")
        progress.badges.award_due(sami.id)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def sami_trajectory(
    demo_history: None, browser: Browser, live_server: LiveServer, browser_context_args: dict[str, Any]
) -> str:
    """Sami's live trajectory, as Hélios sees it (the demo's, proposed from Sami's test; Hélios
    proposes one from the test when there is none); its title."""
    context, page = new_page(browser, live_server, browser_context_args)
    problems: list[str] = []
    try:
        sign_in_as(page, HELIOS)
        page.get_by_role("link", name="Mes élèves").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Mes élèves")
        page.get_by_role("link", name="Sami Gharbi").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Sami Gharbi")
        page.get_by_role("link", name="Trajectoire", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Trajectoire de Sami Gharbi")
        main = page.locator("main")
        if main.get_by_role("link", name="Proposer une trajectoire").count():
            # No trajectory yet (another journey gave Sami sessions first: the demo's history, its
            # test and trajectory included, was not added): Hélios proposes one.
            look(page, "coach-trajectory-empty", problems)
            main.get_by_role("link", name="Proposer une trajectoire").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Proposer une trajectoire")
            look(page, "coach-trajectory-form", problems)
            page.get_by_label("Objectif", exact=True).fill(TRAJECTORY)
            page.get_by_label("Matière").select_option(label="Mathématiques")
            level = page.get_by_label("Niveau visé", exact=True)
            if not level.input_value() and not page.get_by_label(re.compile("^SSN visé")).input_value():
                level.fill("14/20")  # a level or an SSN is needed
            step = page.get_by_label("Étape", exact=True).first
            if not step.input_value():  # no finished test: nothing proposed
                step.fill("Refaire les exercices de dérivation")
            page.get_by_label("Objectif convenu avec la famille").check()
            page.get_by_role("button", name="Enregistrer la trajectoire").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Trajectoire de Sami Gharbi")
            expect(main).to_contain_text("Trajectoire enregistrée")
        title = main.locator("#en-cours").text_content() or ""
        expect(main).to_contain_text("Convenue avec la famille")
        expect(main.get_by_role("table")).to_contain_text("Étape")
        look(page, "coach-trajectory", problems)
        main.get_by_role("link", name="Modifier l'objectif et les étapes").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Modifier la trajectoire")
        expect(page.get_by_label("Objectif", exact=True)).to_have_value(title.strip())
        look(page, "coach-trajectory-edit", problems)
        page.get_by_role("link", name="Annuler").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Trajectoire de Sami Gharbi")
        no_problem(problems)
        return title.strip()
    finally:
        context.close()


# ---- the parent's home ----


def check_index(scope: Locator, trajectory: str, *, me: bool = False) -> None:
    """The index with its level and its four parts, the badges, the trajectory's summary."""
    expect(scope.get_by_role("heading", name="Mon indice Nexus" if me else "Indice Nexus")).to_be_visible()
    expect(scope.locator(".index")).to_have_text(re.compile(rf"^\d+/100 · ({LEVELS})"))
    for part in PARTS:
        expect(scope.locator("ul.parts")).to_contain_text(part)
    expect(scope.get_by_role("heading", name=re.compile(r"^Badges \d+ sur 15$"))).to_be_visible()
    expect(scope.locator("ul.tags li").first).to_be_visible()  # Sami has earned some
    expect(scope.get_by_role("heading", name="Ma trajectoire" if me else "Trajectoire")).to_be_visible()
    expect(scope.locator(".trajectory-summary")).to_contain_text(trajectory)
    expect(scope.get_by_role("progressbar")).to_be_visible()


def check_chart(scope: Locator) -> None:
    """The SVG chart, its words for who cannot see colours, its data table."""
    chart = scope.locator("svg[role='img']")
    expect(chart).to_have_count(1)
    expect(chart.locator("desc")).not_to_be_empty()
    expect(scope.locator(".chart-panel details table")).to_contain_text("Indice Nexus")


def test_samis_parent_sees_his_index_badges_trajectory_and_chart(
    request: pytest.FixtureRequest, phone: Page, sami_trajectory: str
) -> None:
    js = mode(request)
    page = phone
    problems: list[str] = []
    sign_in_as(page, PARENT2)
    expect(page).to_have_url(re.compile(r"/dashboard/parent$"))
    child = page.locator("section.child").filter(has=page.get_by_role("heading", name=re.compile("^Sami")))
    expect(child).to_contain_text("Dernier compte rendu")
    check_index(child, sami_trajectory)
    link = child.get_by_role("link", name="Voir la courbe de progression de Sami")
    if js == "js":
        # The chart is a lazy panel: it replaces its link once scrolled into view.
        child.locator(".progress").scroll_into_view_if_needed()
        link.scroll_into_view_if_needed()
        check_chart(child)
        expect(link).to_have_count(0)
        look(page, "parent-home-js", problems)
    else:
        expect(child.locator("svg[role='img']")).to_have_count(0)
        look(page, "parent-home-no-js", problems)
        link.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Progression de Sami")
        check_index(page.locator("main"), sami_trajectory)
        check_chart(page.locator("main"))
        look(page, "parent-progress-page", problems)
        page.get_by_role("link", name="Retour à l'accueil").click()
        expect(page).to_have_url(re.compile(r"/dashboard/parent$"))

    # The trajectory's page, from the home's summary.
    child.get_by_role("link", name=re.compile("^Voir la trajectoire")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trajectoire de Sami")
    expect(page.get_by_role("heading", level=2, name=sami_trajectory)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Objectif convenu avec la famille le")
    expect(page.get_by_role("heading", name="Les étapes")).to_be_visible()
    look(page, f"parent-trajectory-{js}", problems)
    # The list of the children's trajectories (the menu's "Trajectoires").
    page.goto("/dashboard/parent/trajectoires")
    expect(page.get_by_role("heading", level=1)).to_have_text("Trajectoires de mes enfants")
    card = page.locator("section.card").filter(has=page.get_by_role("heading", name=re.compile("^Sami")))
    expect(card).to_contain_text(sami_trajectory)
    expect(card.get_by_role("progressbar")).to_be_visible()
    look(page, f"parent-trajectories-{js}", problems)
    no_problem(problems)


def test_sami_sees_his_sessions_trajectory_and_badges(
    request: pytest.FixtureRequest, phone: Page, sami_trajectory: str
) -> None:
    js = mode(request)
    page = phone
    problems: list[str] = []
    sign_in_as(page, SAMI)
    expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    main = page.locator("main")
    expect(main.get_by_role("heading", name="Prochaines séances")).to_be_visible()
    expect(main.get_by_role("heading", name="Mes dernières questions à ARIA")).to_be_visible()
    mine = main.locator("section.card").filter(has=page.get_by_role("heading", name="Ma progression"))
    check_index(mine, sami_trajectory, me=True)
    link = mine.get_by_role("link", name="Voir ma courbe de progression")
    if js == "js":
        link.scroll_into_view_if_needed()
        check_chart(mine)
        expect(link).to_have_count(0)
        look(page, "student-home-js", problems)
    else:
        look(page, "student-home-no-js", problems)
        link.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Progression de Sami")
        check_chart(main)
        look(page, "student-progress-page", problems)
        page.get_by_role("link", name="Retour à l'accueil").click()
        expect(page).to_have_url(re.compile(r"/dashboard/eleve$"))
    mine.get_by_role("link", name=re.compile("^Voir la trajectoire")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ma trajectoire")
    expect(page.get_by_role("heading", level=2, name=sami_trajectory)).to_be_visible()
    look(page, f"student-trajectory-{js}", problems)
    no_problem(problems)


# ---- every next step opens a page that answers 200 ----


@pytest.fixture
def wide(browser: Browser, live_server: LiveServer, browser_context_args: dict[str, Any]) -> Iterator[Page]:
    context, page = new_page(browser, live_server, browser_context_args)
    try:
        yield page
    finally:
        context.close()


# Every demo account (nexus/seed.py) and the home it lands on.
DEMO_ACCOUNTS = [
    (ADMIN, "admin"),
    (ASSISTANTE, "assistante"),
    (HELIOS, "coach"),
    (ZENON, "coach"),
    (PARENT, "parent"),
    (PARENT2, "parent"),
    (YASMINE, "eleve"),
    (SAMI, "eleve"),
]


@pytest.mark.usefixtures("demo_history")
@pytest.mark.parametrize(("email", "home"), DEMO_ACCOUNTS, ids=[e.split("@")[0] for e, _ in DEMO_ACCOUNTS])
def test_the_next_step_button_opens_a_page_that_answers(wide: Page, email: str, home: str) -> None:
    page = wide
    sign_in_as(page, email)
    expect(page).to_have_url(re.compile(rf"/dashboard/{home}$"))
    card = page.locator("section.next-step")
    expect(card, f"{email}: no next-step card on /dashboard/{home}").to_be_visible()
    expect(card.get_by_role("heading", level=2)).not_to_be_empty()
    button = card.locator("a.button")
    href = button.get_attribute("href") or ""
    assert href, f"{email}: the next step's button has no link"
    answer = page.request.get(href.split("#")[0])  # with the person's own cookies
    assert answer.status == 200, f"{email}: {href} answered {answer.status}"
    button.click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_be_visible()
    expect(heading).not_to_have_text(re.compile("erreur|introuvable|interdit|refusé", re.I))
