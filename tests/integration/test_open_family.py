"""Staff open a family space from a bilan request or a contact message (issue 9): the row action,
its confirmation page (also without JavaScript), the parent's activation, and one family however
many times it is clicked."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.common import Grade, Role
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.family import ParentProfile
from nexus.models.identity import User
from nexus.models.notifications import ContactMessage, OutboxEmail
from nexus.services import diagnostics, enrolment, family
from tests.helpers import (
    FIFTY,
    NEW_PASSWORD,
    at_once,
    changed_tables,
    fingerprint,
    html,
    link_in,
    outbox_to,
    user,
)
from tests.integration.test_staff_tables import make_bilan, make_contact
from tests.people import ADMIN, ASSISTANTE, COACH, HX, PARENT, YASMINE
from tests.servers import body_text

BILANS = "/dashboard/assistante/bilans"
CONTACTS = "/dashboard/assistante/contacts"
FAMILY_EMAIL = "famille@example.tn"  # make_bilan's parent: Sonia Ayari, child Rania (Première)
OPENED = "Espace famille ouvert : lien d'activation envoyé à {}."
ALREADY = "Déjà fait : l'espace de cette famille est ouvert."


def bilan_url(bilan_id: int) -> str:
    return f"{BILANS}/{bilan_id}/espace-famille"


def contact_url(message_id: int) -> str:
    return f"{CONTACTS}/{message_id}/espace-famille"


def bilan_form(**changes: str) -> dict[str, str]:
    """The confirmation form as prefilled from make_bilan(), with some fields changed."""
    form = {
        "first_name": "Sonia",
        "last_name": "Ayari",
        "email": FAMILY_EMAIL,
        "phone": "+216 98 765 432",
        "children-0-first_name": "Rania",
        "children-0-last_name": "Ayari",
        "children-0-grade": "PREMIERE",
        "children-0-email": "",
    }
    return form | changes


def contact_form(**changes: str) -> dict[str, str]:
    form = {
        "first_name": "Hédi",
        "last_name": "Mansour",
        "email": "hedi@example.tn",
        "phone": "",
        "children-0-first_name": "",
        "children-0-last_name": "",
        "children-0-grade": "",
        "children-0-email": "",
    }
    return form | changes


def account(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def audit_lines(action: str, object_id: int) -> list[AuditLog]:
    stmt = select(AuditLog).where(AuditLog.action == action, AuditLog.object_id == object_id)
    return list(db.session.scalars(stmt))


def field_value(page: str, name: str) -> str | None:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    if match is None:
        match = re.search(rf'value="([^"]*)"[^>]*name="{re.escape(name)}"', page)
    return match.group(1) if match else None


def selected_grade(page: str, name: str) -> str | None:
    select_html = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    match = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select_html)
    return next((g for g in match.groups() if g), None) if match else None


def action_rows(page: str, kind: str) -> set[int]:
    """The ids of the rows that offer "Ouvrir l'espace famille"."""
    rows = re.findall(rf'<tr id="{kind}-(\d+)">(.*?)</tr>', page, re.S)
    return {int(row_id) for row_id, body in rows if "Ouvrir l'espace famille" in body}


def open_bilan_directly(bilan: BilanRequest, email: str = FAMILY_EMAIL) -> User:
    draft = family.ParentDraft("Sonia", "Ayari", email)
    kids = [family.ChildDraft("Rania", "Ayari", Grade.PREMIERE)]
    opened = enrolment.open_from_bilan(bilan.id, draft, kids, user(ASSISTANTE))
    assert opened is not None
    db.session.commit()
    return opened.parent


# -- the action in the rows -----------------------------------------------------------------------


def test_the_action_is_offered_only_on_requests_not_yet_linked(client, login):
    waiting, linked, closed = (
        make_bilan(),
        make_bilan("autre@example.tn", "Amine"),
        make_bilan("close@example.tn", "Lina"),
    )
    open_bilan_directly(linked, "autre@example.tn")
    closed.status = BilanStatus.CLOSED
    message, linked_message = make_contact(), make_contact("Amel Jaziri", "amel@example.tn")
    linked_message.parent_user_id = user(PARENT).id
    db.session.commit()

    login(client, ASSISTANTE)
    page = html(client.get(f"{BILANS}?filtre=toutes"))
    assert {waiting.id, linked.id, closed.id} <= set(map(int, re.findall(r'<tr id="bilan-(\d+)"', page)))
    assert action_rows(page, "bilan") == {waiting.id}
    linked_row = re.search(rf'<tr id="bilan-{linked.id}">(.*?)</tr>', page, re.S).group(1)
    assert "Inscrite · espace ouvert" in linked_row and "Parent : Sonia Ayari" in linked_row

    page = html(client.get(f"{CONTACTS}?filtre=tous"))
    assert action_rows(page, "contact") == {message.id}
    assert "Parent : " + user(PARENT).full_name in page


def test_the_row_action_is_a_link_that_keeps_the_list_filters(client, login):
    bilan = make_bilan()
    login(client, ASSISTANTE)
    page = html(client.get(f"{BILANS}?filtre=RECEIVED&q=sonia"))
    href = re.search(rf'href="({re.escape(bilan_url(bilan.id))}\?retour=[^"]+)"', page).group(1)
    assert f'hx-get="{bilan_url(bilan.id)}" hx-target="closest tr" hx-swap="outerHTML"' in page

    confirm = html(client.get(href))
    assert f'<a href="{BILANS}?filtre=RECEIVED&q=sonia">Retour à la liste</a>' in confirm
    assert field_value(confirm, "retour") == f"{BILANS}?filtre=RECEIVED&q=sonia"
    # Anything else than the list is not a way back.
    elsewhere = html(client.get(f"{bilan_url(bilan.id)}?retour=https://evil.example/{BILANS}"))
    assert f'<a href="{BILANS}">Retour à la liste</a>' in elsewhere


# -- the confirmation page ------------------------------------------------------------------------


@pytest.mark.parametrize("email", [ASSISTANTE, ADMIN])
def test_the_page_is_prefilled_from_a_bilan(client, login, email):
    bilan = make_bilan()
    login(client, email)
    response = client.get(bilan_url(bilan.id))
    page = html(response)
    assert response.status_code == 200
    assert "<h1>Ouvrir l'espace famille</h1>" in page
    assert field_value(page, "first_name") == "Sonia"
    assert field_value(page, "last_name") == "Ayari"
    assert field_value(page, "email") == FAMILY_EMAIL
    assert field_value(page, "phone") == "+216 98 765 432"
    assert field_value(page, "children-0-first_name") == "Rania"
    assert field_value(page, "children-0-last_name") == "Ayari"
    assert selected_grade(page, "children-0-grade") == "PREMIERE"
    assert "children-1-first_name" not in page
    assert "Ajouter un autre enfant" in page
    assert 'hx-post="' not in page.split("<main", 1)[1]  # a plain form on its own page
    assert "Mathématiques, SVT" in page  # what the request asked for


def test_the_page_is_prefilled_from_a_contact(client, login):
    message = make_contact("Hédi Ben Mansour", "hedi@example.tn")
    message.phone = "22 333 444"
    db.session.commit()
    login(client, ASSISTANTE)
    page = html(client.get(contact_url(message.id)))
    assert field_value(page, "first_name") == "Hédi"
    assert field_value(page, "last_name") == "Ben Mansour"
    assert field_value(page, "email") == "hedi@example.tn"
    assert field_value(page, "phone") == "22 333 444"
    assert field_value(page, "children-0-first_name") == ""  # one blank group
    assert "Les enfants (facultatif)" in page
    assert "Bonjour, je voudrais des informations." in page


def test_htmx_swaps_the_row_for_the_form_and_back(client, login):
    bilan = make_bilan()
    login(client, ASSISTANTE)
    current = {"HX-Current-URL": f"http://localhost{BILANS}?filtre=toutes"}
    response = client.get(bilan_url(bilan.id), headers=HX | current)
    fragment = html(response)
    assert response.status_code == 200
    assert fragment.lstrip().startswith(f'<tr id="bilan-{bilan.id}">')
    assert '<td colspan="5">' in fragment and "<html" not in fragment
    assert f'hx-post="{bilan_url(bilan.id)}" hx-target="closest tr" hx-swap="outerHTML"' in fragment
    assert field_value(fragment, "retour") == f"{BILANS}?filtre=toutes"
    assert f'hx-get="{BILANS}/{bilan.id}/ligne"' in fragment  # "Annuler"

    cancel = client.get(f"{BILANS}/{bilan.id}/ligne", headers=HX | current)
    assert cancel.status_code == 200
    row = html(cancel)
    assert row.lstrip().startswith(f'<tr id="bilan-{bilan.id}">') and "Ouvrir l'espace famille" in row
    plain = client.get(f"{BILANS}/{bilan.id}/ligne")
    assert plain.status_code == 303 and plain.headers["Location"] == BILANS


# -- opening the family ---------------------------------------------------------------------------


def test_without_javascript_the_family_is_opened_and_the_parent_activates(app, client, login, run_jobs, smtp):
    bilan = make_bilan()
    bilan.school = "Lycée Pilote de l'Ariana"
    db.session.commit()
    login(client, ASSISTANTE)
    back = f"{BILANS}?filtre=toutes"
    response = client.post(bilan_url(bilan.id), data=bilan_form(retour=back))
    assert response.status_code == 303
    assert response.headers["Location"] == back
    assert OPENED.format(FAMILY_EMAIL) in html(client.get(back))

    parent = account(FAMILY_EMAIL)
    assert parent is not None and parent.role is Role.PARENT
    assert (parent.first_name, parent.last_name, parent.phone) == ("Sonia", "Ayari", "+216 98 765 432")
    assert not parent.can_sign_in and parent.password_hash is None  # until the link is opened
    [rania] = family.children(parent)
    assert (rania.user.first_name, rania.grade, rania.school) == ("Rania", Grade.PREMIERE, bilan.school)

    db.session.refresh(bilan)
    assert bilan.parent_user_id == parent.id
    assert bilan.status is BilanStatus.CONVERTED and bilan.status.label == "Inscrite"
    [line] = audit_lines("bilan.family_opened", bilan.id)
    assert line.actor_id == user(ASSISTANTE).id
    assert line.before == {"status": "RECEIVED", "parent_user_id": None}
    assert line.after == {"status": "CONVERTED", "parent_user_id": parent.id, "children": 1}

    # Not yet able to sign in; the e-mail's link lets the parent choose a password.
    newcomer = app.test_client()
    refused = newcomer.post("/auth/signin", data={"email": FAMILY_EMAIL, "password": NEW_PASSWORD})
    assert refused.status_code != 303
    run_jobs()
    smtp.wait_for(FAMILY_EMAIL)
    [mail] = [m for m in smtp.to(FAMILY_EMAIL) if "/auth/activate" in body_text(m)]  # not the receipt
    link = link_in(mail, "/auth/activate")
    assert newcomer.get(link).status_code == 200
    done = newcomer.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    signed_in = newcomer.post("/auth/signin", data={"email": FAMILY_EMAIL, "password": NEW_PASSWORD})
    assert signed_in.status_code == 303
    assert newcomer.get("/dashboard").headers["Location"] == "/dashboard/parent"
    dashboard = newcomer.get("/dashboard/parent")
    assert dashboard.status_code == 200 and "Rania" in html(dashboard)


def test_with_htmx_the_answer_is_the_new_row(client, login):
    bilan = make_bilan()
    login(client, ADMIN)
    response = client.post(bilan_url(bilan.id), data=bilan_form(retour=f"{BILANS}?filtre=toutes"), headers=HX)
    row = html(response)
    assert response.status_code == 200
    assert row.lstrip().startswith(f'<tr id="bilan-{bilan.id}">')
    assert "Inscrite · espace ouvert" in row and "Parent : Sonia Ayari" in row
    assert OPENED.format(FAMILY_EMAIL) in row
    assert "Ouvrir l'espace famille" not in row and "<form" not in row
    assert 'id="new-bilans-count" hx-swap-oob="true">0<' in row  # the counter follows


def test_the_editable_fields_are_the_ones_used(client, login, run_jobs, smtp):
    bilan = make_bilan()
    login(client, ASSISTANTE)
    form = bilan_form(email="Sonia.Ayari@Example.TN", first_name="Sonya", phone="22 333 444")
    form |= {
        "children-1-first_name": "Youssef",
        "children-1-last_name": "Ayari",
        "children-1-grade": "TERMINALE",
        "children-1-email": "youssef@example.tn",
    }
    assert client.post(bilan_url(bilan.id), data=form).status_code == 303
    assert account(FAMILY_EMAIL) is None
    parent = account("sonia.ayari@example.tn")
    assert parent is not None and parent.first_name == "Sonya" and parent.phone == "+216 22 333 444"
    assert sorted(s.user.first_name for s in family.children(parent)) == ["Rania", "Youssef"]
    run_jobs()
    assert "/auth/activate" in smtp.wait_for("sonia.ayari@example.tn").as_string()
    assert smtp.wait_for("youssef@example.tn") is not None  # the child with an address: its own link
    assert outbox_to(FAMILY_EMAIL) == [] or all(m.template == "bilan_ack" for m in outbox_to(FAMILY_EMAIL))


def test_a_contact_becomes_a_family_without_children(client, login, run_jobs, smtp):
    message = make_contact()
    login(client, ASSISTANTE)
    response = client.post(contact_url(message.id), data=contact_form(), headers=HX)
    row = html(response)
    assert response.status_code == 200
    assert row.lstrip().startswith(f'<tr id="contact-{message.id}">')
    assert "Inscrite · espace ouvert" in row and "Parent : Hédi Mansour" in row
    assert 'id="open-contacts-count" hx-swap-oob="true">' in row
    parent = account("hedi@example.tn")
    assert parent is not None and family.children(parent) == []
    db.session.refresh(message)
    assert message.parent_user_id == parent.id and message.handled_at is not None
    [line] = audit_lines("contact.family_opened", message.id)
    assert line.before["parent_user_id"] is None and line.after["parent_user_id"] == parent.id
    run_jobs()
    assert "/auth/activate" in smtp.wait_for("hedi@example.tn").as_string()


def test_a_second_click_gives_the_same_family_and_one_email(client, login):
    bilan = make_bilan()
    login(client, ASSISTANTE)
    first = client.post(bilan_url(bilan.id), data=bilan_form(), headers=HX)
    second = client.post(bilan_url(bilan.id), data=bilan_form(), headers=HX)
    assert (first.status_code, second.status_code) == (200, 200)
    assert ALREADY in html(second) and "Inscrite · espace ouvert" in html(second)
    plain = client.post(bilan_url(bilan.id), data=bilan_form())
    assert plain.status_code == 303
    assert ALREADY in html(client.get(BILANS))
    assert db.session.scalar(select(func.count()).where(User.email == FAMILY_EMAIL)) == 1
    assert [m.template for m in outbox_to(FAMILY_EMAIL)] == ["bilan_ack", "account_activation"]
    assert len(audit_lines("bilan.family_opened", bilan.id)) == 1
    # The page of a request already turned into a family says so, and offers no form.
    page = html(client.get(bilan_url(bilan.id)))
    assert ALREADY in page and "Espace de Sonia Ayari" in page and 'name="email"' not in page


# -- refusals -------------------------------------------------------------------------------------


def test_an_address_in_use_is_refused_with_a_link_to_its_account(client, login):
    bilan = make_bilan()
    owner = user(PARENT)
    login(client, ASSISTANTE)
    before = fingerprint()
    response = client.post(bilan_url(bilan.id), data=bilan_form(email=PARENT), headers=HX)
    fragment = html(response)
    assert response.status_code == 422
    assert changed_tables(before, fingerprint()) == []  # nothing created, nothing sent
    assert fragment.lstrip().startswith(f'<tr id="bilan-{bilan.id}">')
    message = f"Cette adresse e-mail est déjà utilisée par le compte de {owner.full_name} (parent)."
    assert message in fragment
    assert field_value(fragment, "children-0-first_name") == "Rania"  # the rest is kept
    # The assistante's link: the students table, filtered on that parent's address.
    link = re.search(r'<a href="(/dashboard/assistante/eleves\?q=[^"]+)">Voir le compte de', fragment)
    assert link is not None
    students = html(client.get(link.group(1)))
    assert PARENT in students and "Yasmine" in students
    db.session.refresh(bilan)
    assert bilan.parent_user_id is None and bilan.status is BilanStatus.RECEIVED

    client.post("/auth/signout")
    login(client, ADMIN)
    before = fingerprint()
    page = html(client.post(bilan_url(bilan.id), data=bilan_form(email=PARENT)))
    assert changed_tables(before, fingerprint()) == []
    assert message in page
    assert (
        f'<a href="/dashboard/admin/utilisateurs/{owner.id}">Voir le compte de {owner.full_name}</a>' in page
    )


def test_a_staff_address_is_named_without_a_link_for_the_assistante(client, login):
    bilan = make_bilan()
    login(client, ASSISTANTE)
    page = html(client.post(bilan_url(bilan.id), data=bilan_form(email=COACH)))
    coach = user(COACH)
    assert f"déjà utilisée par le compte de {coach.full_name} (coach)." in page
    assert "/dashboard/assistante/eleves?q=" not in page


def test_field_errors_are_shown_next_to_the_fields_and_nothing_is_created(client, login):
    bilan = make_bilan()
    login(client, ASSISTANTE)
    before = fingerprint()
    bad = bilan_form(phone="12", email="pas-un-email", **{"children-0-grade": "CM2"})
    response = client.post(bilan_url(bilan.id), data=bad)
    page = html(response)
    assert response.status_code == 422
    assert "Numéro de téléphone invalide" in page
    assert "Adresse e-mail invalide." in page
    assert "Choisissez une classe dans la liste." in page
    assert field_value(page, "first_name") == "Sonia"
    no_child = {k: v for k, v in bilan_form().items() if not k.startswith("children")}
    assert "Indiquez au moins un enfant." in html(client.post(bilan_url(bilan.id), data=no_child))
    same = bilan_form(**{"children-0-email": FAMILY_EMAIL})
    refused = client.post(bilan_url(bilan.id), data=same, headers=HX)
    assert refused.status_code == 422
    assert "C'est l'adresse du parent" in html(refused)
    taken = client.post(bilan_url(bilan.id), data=bilan_form(**{"children-0-email": YASMINE}))
    assert "déjà utilisée par le compte de" in html(taken) and "(élève)" in html(taken)
    assert changed_tables(before, fingerprint()) == []


def test_children_are_added_and_removed_without_javascript(client, login):
    bilan = make_bilan()
    login(client, ASSISTANTE)
    before = fingerprint()
    added = client.post(bilan_url(bilan.id), data=bilan_form(enfant="ajouter"))
    page = html(added)
    assert added.status_code == 200
    assert "children-1-first_name" in page and field_value(page, "children-0-first_name") == "Rania"
    removed = client.post(
        bilan_url(bilan.id),
        data=bilan_form(retirer="0", **{"children-1-first_name": "Youssef", "children-1-last_name": "A"}),
    )
    page = html(removed)
    assert field_value(page, "children-1-first_name") == "Youssef" and "children-0-first_name" not in page
    assert changed_tables(before, fingerprint()) == []


def test_a_closed_request_cannot_become_a_family(client, login):
    bilan = make_bilan()
    bilan.status = BilanStatus.CLOSED
    db.session.commit()
    login(client, ASSISTANTE)
    page = html(client.get(bilan_url(bilan.id)))
    assert enrolment.CLOSED_REQUEST in page and 'name="email"' not in page
    row = client.get(bilan_url(bilan.id), headers=HX)  # a stale row asks: it gets the row back
    assert row.status_code == 200 and enrolment.CLOSED_REQUEST in html(row)
    assert "Ouvrir l'espace famille" not in html(row)
    response = client.post(bilan_url(bilan.id), data=bilan_form(), headers=HX)
    assert response.status_code == 422 and enrolment.CLOSED_REQUEST in html(response)
    assert account(FAMILY_EMAIL) is None


def test_unknown_requests_answer_404(client, login):
    login(client, ASSISTANTE)
    for url in (bilan_url(999_999), contact_url(999_999)):
        assert client.get(url).status_code == 404
        assert client.post(url, data=bilan_form()).status_code == 404
        assert client.post(url, data=bilan_form(), headers=HX).status_code == 404
    assert client.get(f"{BILANS}/999999/ligne", headers=HX).status_code == 404
    assert client.get(f"{CONTACTS}/999999/ligne", headers=HX).status_code == 404


@pytest.mark.parametrize("email", [PARENT, COACH, YASMINE])
def test_other_roles_are_refused_by_the_policy(client, login, email):
    bilan, message = make_bilan(), make_contact()
    login(client, email)
    for url in (bilan_url(bilan.id), contact_url(message.id)):
        assert client.get(url).status_code == 403
        assert client.post(url, data=bilan_form()).status_code == 403
    assert client.get(f"{BILANS}/{bilan.id}/ligne", headers=HX).status_code == 403
    assert account(FAMILY_EMAIL) is None


def test_odd_return_targets_and_current_urls_never_fail(client, login):
    bilan, message = make_bilan(), make_contact()
    login(client, ASSISTANTE)
    odd = ["", "%", "http://[::1", "\x1b", "a\r\nb", f"{BILANS}?\u2028", "//evil.example", "é" * 3000]
    for value in odd:
        for url in (bilan_url(bilan.id), contact_url(message.id), f"{BILANS}/{bilan.id}/ligne"):
            plain = client.get(url, query_string={"retour": value})
            assert plain.status_code < 500, (url, value)
            if "\n" in value:
                continue  # no client sends a header with a line break (werkzeug refuses to)
            current = value.encode("utf-8").decode("latin-1")  # a header carries bytes
            htmx = client.get(url, headers=HX | {"HX-Current-URL": current})
            assert htmx.status_code < 500, (url, value)
        answer = client.post(bilan_url(bilan.id), data=bilan_form(email="x", retour=value))
        assert answer.status_code == 422


# -- fifty clicks at once -------------------------------------------------------------------------


@pytest.mark.committed
def test_fifty_concurrent_clicks_open_one_family(app, login):
    bilan_id = make_bilan().id  # committed
    db.session.remove()
    clients = [login(app.test_client(), ASSISTANTE) for _ in range(FIFTY)]

    def click(i: int) -> tuple[int, str]:
        response = clients[i].post(bilan_url(bilan_id), data=bilan_form(), headers=HX)
        return response.status_code, html(response)

    results = at_once(app, click)
    assert [status for status, _ in results] == [200] * FIFTY
    opened = [body for _, body in results if OPENED.format(FAMILY_EMAIL) in body]
    already = [body for _, body in results if ALREADY in body]
    assert (len(opened), len(already)) == (1, FIFTY - 1)

    parents = db.session.scalars(select(User).where(User.email == FAMILY_EMAIL)).all()
    assert len(parents) == 1
    assert db.session.scalar(select(func.count()).where(ParentProfile.user_id == parents[0].id)) == 1
    assert len(family.children(parents[0])) == 1
    activation = select(func.count()).where(
        OutboxEmail.to_email == FAMILY_EMAIL, OutboxEmail.template == "account_activation"
    )
    assert db.session.scalar(activation) == 1
    assert len(audit_lines("bilan.family_opened", bilan_id)) == 1
    bilan = db.session.get(BilanRequest, bilan_id)
    assert bilan.parent_user_id == parents[0].id and bilan.status is BilanStatus.CONVERTED


@pytest.mark.committed
def test_fifty_concurrent_clicks_on_a_contact_open_one_family(app, login):
    message_id = make_contact().id
    db.session.remove()
    clients = [login(app.test_client(), ADMIN) for _ in range(FIFTY)]

    def click(i: int) -> int:
        return clients[i].post(contact_url(message_id), data=contact_form()).status_code

    assert at_once(app, click) == [303] * FIFTY
    assert db.session.scalar(select(func.count()).where(User.email == "hedi@example.tn")) == 1
    activation = select(func.count()).where(
        OutboxEmail.to_email == "hedi@example.tn", OutboxEmail.template == "account_activation"
    )
    assert db.session.scalar(activation) == 1
    assert len(audit_lines("contact.family_opened", message_id)) == 1
    assert db.session.get(ContactMessage, message_id).parent_user_id is not None


def test_the_service_refuses_an_address_in_use_and_creates_nothing():
    bilan = make_bilan()
    draft = family.ParentDraft("Sonia", "Ayari", PARENT.upper())
    before = db.session.scalar(select(func.count()).select_from(User))
    with pytest.raises(enrolment.EmailTaken) as refused:
        enrolment.open_from_bilan(bilan.id, draft, [], user(ASSISTANTE))
    db.session.rollback()
    assert refused.value.owner.email == PARENT
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    assert enrolment.open_from_bilan(999_999, draft, [], user(ASSISTANTE)) is None
    assert diagnostics.get_bilan(bilan.id).parent_user_id is None
