"""Messages in Chromium: a student writes to the centre with a file, staff answer, and the answer
appears on the student's open page without reloading (polling); the pages at 360 and 1280 px."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.people import ASSISTANTE, YASMINE

SHOTS = os.environ.get("MESSAGES_SHOTS")  # a folder: screenshots of each page, to look at


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def test_a_student_writes_to_the_centre_and_sees_the_answer_arrive(
    browser: Browser, live_server, browser_context_args, sign_in, tmp_path
):  # type: ignore[no-untyped-def]
    pdf = tmp_path / "bulletin.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    options = {**browser_context_args, "base_url": live_server.url}
    student = browser.new_context(**options, viewport={"width": 360, "height": 740}).new_page()
    sign_in(student, YASMINE)
    expect(student).to_have_url(re.compile("/dashboard"))
    student.goto("/messages")
    shot(student, "index-360")
    student.get_by_label("À").select_option(label="L'équipe Nexus Réussite")
    student.get_by_label("Objet").fill("Changer de créneau")
    student.get_by_label("Votre message").fill("Bonjour,\npuis-je déplacer ma séance de jeudi ?")
    student.get_by_label(re.compile("Pièce jointe")).set_input_files(str(pdf))
    student.get_by_role("button", name="Envoyer").click()
    expect(student.get_by_role("heading", name="Changer de créneau")).to_be_visible()
    expect(student.get_by_role("link", name="bulletin.pdf")).to_be_visible()
    shot(student, "thread-360")
    thread_url = student.url

    staff = browser.new_context(**options, viewport={"width": 1280, "height": 900}).new_page()
    sign_in(staff, ASSISTANTE)
    expect(staff).to_have_url(re.compile("/dashboard"))
    staff.goto(thread_url)
    staff.get_by_label("Votre message").fill("Bien sûr : vendredi 15 h vous convient-il ?")
    staff.get_by_role("button", name="Envoyer").click()
    expect(staff.get_by_text("vendredi 15 h vous convient-il ?")).to_be_visible()
    shot(staff, "thread-1280")

    # The student's page, left open, shows the answer within a poll (every 10 s), no reload.
    expect(student.get_by_text("vendredi 15 h vous convient-il ?")).to_be_visible(timeout=15_000)
    shot(student, "thread-360-polled")
    # Away from the thread, a new answer is an unread thread in the list and a count in the menu.
    student.goto("/messages")
    staff.get_by_label("Votre message").fill("Je vous confirme vendredi.")
    staff.get_by_role("button", name="Envoyer").click()
    expect(staff.get_by_text("Je vous confirme vendredi.")).to_be_visible()
    student.reload()
    expect(student.locator(".threads .tag-new")).to_have_text("Non lu")
    expect(student.locator("#messages-badge")).to_have_text(re.compile(r"^1"))
    shot(student, "index-360-unread")
    student.set_viewport_size({"width": 1280, "height": 900})
    shot(student, "index-1280")
    staff.set_viewport_size({"width": 360, "height": 740})
    staff.goto("/messages/nouveau")
    expect(staff.get_by_label("À")).to_be_visible()
    shot(staff, "new-360")
