"""The family's care by its parents: a child's details, removing a child without history, and the
second parent (co-parent) invited to the family with the same rights."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.jobs.billing import remind_expiring_credits
from nexus.models.audit import AuditLog
from nexus.models.common import Grade, Role
from nexus.models.credits import LotSource
from nexus.models.family import CoParent, Student
from nexus.models.identity import TokenPurpose, User, UserToken
from nexus.models.notifications import OutboxEmail
from nexus.services import billing, co_parents, credits, family, identity, invoices, scheduling, utcnow
from tests import factories
from tests.helpers import (
    NEW_PASSWORD,
    adam,
    at_once,
    changed_tables,
    fingerprint,
    html,
    link_in,
    outbox_to,
    refusals,
    user,
)
from tests.integration.scheduling_support import bookings_of, form, free_slot
from tests.people import ADMIN, PARENT, PARENT2, SAMI, YASMINE

CHILDREN = "/dashboard/parent/enfants"
INVITE = "/dashboard/parent/enfants/second-parent"
RESEND = "/dashboard/parent/enfants/second-parent/renvoyer"
CO_PARENT = "karim.benali@example.tn"
INVITATION = {"first_name": "Karim", "last_name": "Ben Ali", "email": CO_PARENT, "phone": "22 333 444"}
HISTORY = "a déjà un historique (séances, paiements ou crédits) : il ne peut pas être retiré."


def edit_url(student_id: int) -> str:
    return f"{CHILDREN}/{student_id}/modifier"


def remove_url(student_id: int) -> str:
    return f"{CHILDREN}/{student_id}/retirer"


def flashes(page: str) -> list[str]:
    return [m.strip() for m in re.findall(r'class="flash flash-[^"]*"[^>]*>([^<]+)<', page)]


def section(page: str, anchor: str) -> str:
    """The HTML of the `<section id=anchor>` of a page."""
    return page.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def new_child(first_name: str = "Lina", parent: str = PARENT) -> Student:
    student = family.add_child(user(parent), first_name, "Ben Ali", Grade.SECONDE, None, None)
    db.session.commit()
    return student


def audit_lines(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


# -- editing a child -----------------------------------------------------------------------------


def test_a_parent_edits_a_childs_name_and_class(client, login):
    login(client, PARENT)
    child = adam()
    page = html(client.get(edit_url(child.id)))
    assert "Modifier — Adam Ben Ali" in page
    assert 'value="Adam"' in page and '<option selected value="SECONDE">' in page

    response = client.post(
        edit_url(child.id), data={"first_name": "Adem", "last_name": "Ben Ali", "grade": "PREMIERE"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"{CHILDREN}#enfant-{child.id}"
    db.session.expire_all()
    assert (child.user.first_name, child.grade) == ("Adem", Grade.PREMIERE)
    (line,) = audit_lines("family.child_updated")
    assert line.actor_id == user(PARENT).id and line.object_id == child.id
    assert line.before == {"first_name": "Adam", "last_name": "Ben Ali", "grade": "SECONDE"}
    assert line.after == {"first_name": "Adem", "last_name": "Ben Ali", "grade": "PREMIERE"}
    assert "Modifications enregistrées pour Adem." in flashes(html(client.get(CHILDREN)))

    # The same values again change nothing and write no second line.
    before = fingerprint()
    client.post(edit_url(child.id), data={"first_name": "Adem", "last_name": "Ben Ali", "grade": "PREMIERE"})
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"first_name": ""}, "Indiquez le prénom."),
        ({"last_name": "B"}, "Entre 2 et 80 caractères."),
        ({"grade": "CM2"}, "Choisissez une classe dans la liste."),
        ({"first_name": "Adam\r\nBcc: x@example.tn"}, None),
    ],
)
def test_bad_input_is_refused_in_french_and_changes_nothing(client, login, values, message):
    login(client, PARENT)
    child = adam()
    before = fingerprint()
    data = {"first_name": "Adem", "last_name": "Ben Ali", "grade": "PREMIERE"} | values
    response = client.post(edit_url(child.id), data=data)
    assert response.status_code == 422
    page = html(response)
    assert re.search(r'class="error"[^>]*role="alert">\S', page)
    if message:
        assert message in page
    kept = "first_name" if "first_name" not in values else "last_name"
    assert f'value="{data[kept]}"' in page  # the rest of the form is kept
    assert changed_tables(before, fingerprint()) == []


def test_another_familys_child_is_not_found(client, login):
    sami = factories.student(SAMI)
    login(client, PARENT)
    before = fingerprint()
    assert client.get(edit_url(sami.id)).status_code == 404
    data = {"first_name": "Samir", "last_name": "Gharbi", "grade": "TERMINALE"}
    assert client.post(edit_url(sami.id), data=data).status_code == 404
    assert client.get(remove_url(sami.id)).status_code == 404
    assert client.post(remove_url(sami.id)).status_code == 404
    assert client.get(edit_url(999_999)).status_code == 404
    assert client.post(remove_url(999_999)).status_code == 404
    assert changed_tables(before, fingerprint()) == []


# -- removing a child ------------------------------------------------------------------------------


def test_a_child_without_history_is_removed_with_its_account(client, login, run_jobs):
    login(client, PARENT)
    lina = new_child()
    client.post(f"{CHILDREN}/{lina.id}/activation", data={"email": "lina@example.tn"})  # a link waits
    student_id, user_id = lina.id, lina.user_id
    page = html(client.get(remove_url(student_id)))
    assert "Retirer Lina de votre famille" in page and "Cette action est définitive." in page
    assert f'action="{remove_url(student_id)}"' in page and "hx-confirm=" in page

    response = client.post(remove_url(student_id))
    assert response.status_code == 303 and response.headers["Location"] == CHILDREN
    db.session.expire_all()
    assert db.session.get(Student, student_id) is None
    assert db.session.get(User, user_id) is None
    assert db.session.scalar(select(func.count()).where(UserToken.user_id == user_id)) == 0
    (line,) = audit_lines("family.child_removed")
    assert line.after == {"first_name": "Lina"} and line.before is None
    assert line.actor_id == user(PARENT).id
    children_page = html(client.get(CHILDREN))
    assert "Lina a été retiré(e) de votre famille." in flashes(children_page)
    assert "Lina Ben Ali" not in children_page

    # A second click (or an old tab) says so, without a 500.
    for method in (client.post, client.get):
        again = method(remove_url(student_id))
        assert again.status_code == 303
        assert "Lina a déjà été retiré(e) de votre famille." in flashes(html(client.get(CHILDREN)))
    # Another family does not learn the child existed.
    client.post("/auth/signout")
    login(client, PARENT2)
    assert client.post(remove_url(student_id)).status_code == 404


def give_booking(student: Student) -> None:
    factories.booking(student.id, factories.coach("Hélios").id)


def give_credits(student: Student) -> None:
    factories.entitle(student.id, 2)


def give_credit_request(student: Student) -> None:
    from decimal import Decimal

    from nexus.services import credits

    credits.request_credits(user(PARENT).id, student.id, Decimal(2), "Bac blanc")


def give_transfer(student: Student) -> None:
    from nexus.services import billing

    parent = user(PARENT)
    billing.declare_transfer(parent, billing.build_order(parent, student.id, "CREDITS_5", None))


@pytest.mark.parametrize("history", [give_booking, give_credits, give_credit_request, give_transfer])
def test_a_child_with_history_is_not_removed(client, login, history):
    lina = new_child()
    history(lina)
    db.session.commit()
    login(client, PARENT)
    page = html(client.get(remove_url(lina.id)))
    assert f"Lina {HISTORY}" in page and "Écrivez-nous si vous souhaitez fermer son compte." in page
    assert f'action="{remove_url(lina.id)}"' not in page  # no button to press

    before = fingerprint()
    refused = client.post(remove_url(lina.id))
    assert refused.status_code == 409
    assert f"Lina {HISTORY}" in html(refused)
    assert re.search(r'role="alert">[^<]*a déjà un historique', html(refused))
    assert changed_tables(before, fingerprint()) == []
    assert db.session.get(Student, lina.id) is not None


def test_history_covers_every_table_that_references_a_student(app):
    """A new table pointing at students (or at a student's account) must be in child_history."""
    known = {
        "payments",
        "invoices",
        "subscriptions",
        "entitlements",
        "session_bookings",
        "credit_lots",
        "credit_entries",
        "credit_requests",
        "aria_conversations",
        "assessments",
        "assessment_scores",
        "user_documents",
        "message_threads",
        "trajectories",
        "workshop_waitlist",
        "aria_alerts",  # about an ARIA question, so an ARIA conversation exists
        # Derived from the rest (computed again from it), they go with the child.
        "index_snapshots",
        "badge_awards",
    }
    # Rows of a student's account that go with it (its own links, sessions, notifications …).
    of_the_account = {
        "students",
        "user_tokens",
        "user_sessions",
        "notifications",
        "calendar_feeds",
        "outbox_emails",
        "audit_log",
        "coach_profiles",
        "parent_profiles",
        "co_parents",
        "family_signups",
        "bilan_requests",
        "contact_messages",
        "documents",
        "session_reports",
        "invoice_access_tokens",
        "invoice_events",
        "bilans",  # who asked for it (set to null with the account)
        "assessments",  # staff who assigned it (set to null)
        "thread_participants",  # only in threads, which are history
        "messages",
        "message_reports",
        "notification_preferences",
        "trajectory_milestones",  # who ticked it (set to null)
        "invoice_details_requests",  # the parent who asked, the staff who handled it (set to null)
        "centre_settings",  # the admin who last edited them (set to null)
        # Staff who created, cancelled, rated, validated or adjusted (set to null).
        "workshops",
        "coach_rates",
        "coach_statements",
        "coach_statement_lines",
    }
    referencing = set()
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name in ("students", "users"):
                referencing.add(table.name)
    students = {
        t.name
        for t in db.metadata.sorted_tables
        for fk in t.foreign_keys
        if fk.column.table.name == "students"
    }
    assert students <= known, f"tables referencing students not checked: {students - known}"
    assert referencing <= known | of_the_account, (
        f"review these for child_history: {referencing - known - of_the_account}"
    )


def test_the_parent_dashboard_offers_edit_and_remove(client, login):
    login(client, PARENT)
    page = html(client.get(CHILDREN))
    card = section(page, f"enfant-{adam().id}")
    assert f'href="{edit_url(adam().id)}"' in card and f'href="{remove_url(adam().id)}"' in card


# -- the second parent -------------------------------------------------------------------------------


def invite(client, data=None):  # type: ignore[no-untyped-def]
    return client.post(INVITE, data=data or INVITATION)


def test_co_parent_invited_activates_and_shares_the_family(app, client, login, run_jobs, smtp):
    login(client, PARENT)
    response = invite(client)
    assert response.status_code == 303 and response.headers["Location"] == f"{CHILDREN}#second-parent"
    page = html(client.get(CHILDREN))
    assert f"Invitation envoyée à {CO_PARENT}. Le lien est valable 72 heures." in flashes(page)
    box = section(page, "second-parent")
    assert "Karim Ben Ali" in box and "En attente d'activation" in box
    assert "lien valable jusqu'au 07/03/2030 à 09:" in box and "Renvoyer le lien" in box
    assert 'name="email"' not in box  # no second invitation form

    karim = user(CO_PARENT)
    assert karim.role is Role.PARENT and karim.activated_at is None and karim.phone == "+216 22 333 444"
    assert db.session.scalar(select(CoParent.user_id)) == karim.id
    (line,) = audit_lines("family.co_parent_invited")
    assert line.actor_id == user(PARENT).id and line.object_type == "parent_profiles"

    run_jobs()
    message = smtp.wait_for(CO_PARENT)
    assert "à l'initiative de Nadia" in message.get_body(preferencelist=("plain",)).get_content()
    link = link_in(message, "/auth/activate")
    other = app.test_client()
    done = other.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    login(other, CO_PARENT, NEW_PASSWORD)

    # The same children, on the dashboard and the children page; the payment page; not Sami.
    yasmine, sami = factories.student(YASMINE), factories.student(SAMI)
    for page_url in ("/dashboard/parent", CHILDREN):
        seen = html(other.get(page_url))
        assert "Yasmine" in seen and "Adam" in seen and "Sami" not in seen
    assert other.get(f"/dashboard/parent/paiement?eleve={yasmine.id}&offre=CREDITS_5").status_code == 200
    assert other.get(f"/dashboard/parent/paiement?eleve={sami.id}&offre=CREDITS_5").status_code == 404
    assert other.get(edit_url(sami.id)).status_code == 404
    both = section(html(other.get(CHILDREN)), "second-parent")
    assert "Nadia Ben Ali" in both and "(qui a ouvert l'espace) et vous" in both

    # The co-parent pays, asks for credits and edits a child as the first parent would.
    order = {"eleve": str(yasmine.id), "offre": "CREDITS_5"}
    assert other.post("/dashboard/parent/paiement/virement", data=order).status_code == 303
    asked = {"eleve": str(yasmine.id), "amount": "2", "reason": "Bac blanc"}
    assert other.post("/dashboard/parent/credits/demande", data=asked).status_code == 303
    data = {"first_name": "Adam", "last_name": "Ben Ali", "grade": "PREMIERE"}
    assert other.post(edit_url(adam().id), data=data).status_code == 303
    db.session.expire_all()
    assert adam().grade is Grade.PREMIERE

    # The co-parent may not invite a third parent; the first parent sees the second as active.
    before = fingerprint()
    third = invite(other, {**INVITATION, "first_name": "Sonia", "email": "sonia@example.tn"})
    assert third.status_code == 409
    assert "Votre famille a déjà deux parents" in html(third)
    assert changed_tables(before, fingerprint()) == []
    assert "Actif" in section(html(client.get(CHILDREN)), "second-parent")


def test_co_parent_books_for_a_child(app, client, login, run_jobs, smtp):
    login(client, PARENT)
    invite(client)
    run_jobs()
    link = link_in(smtp.wait_for(CO_PARENT), "/auth/activate")
    other = app.test_client()
    other.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    login(other, CO_PARENT, NEW_PASSWORD)
    yasmine, helios = factories.student(YASMINE), factories.coach("Hélios")
    factories.entitle(yasmine.id, 2)
    db.session.commit()
    response = other.post(
        "/dashboard/sessions/reserver", data=form(helios, free_slot(helios), eleve=yasmine.id)
    )
    assert response.status_code == 303
    (booking,) = bookings_of(yasmine.id)
    assert booking.booked_by_id == user(CO_PARENT).id


def answer(client, data):  # type: ignore[no-untyped-def]
    """What a parent sees after an invitation, with the name and address typed masked."""
    response = invite(client, data)
    page = html(client.get(CHILDREN))
    masked = re.sub(r'name="csrf_token" value="[^"]*"', "", page)
    for value in (data["email"], data["first_name"], data["last_name"]):
        masked = masked.replace(value, "X")
    box = section(masked, "second-parent")
    return response.status_code, response.headers.get("Location"), list(flashes(masked)), box


def test_an_address_in_use_answers_alike_and_creates_nothing(client, login, run_jobs, smtp):
    login(client, PARENT)
    users = db.session.scalar(select(func.count()).select_from(User))
    taken = answer(client, {"first_name": "Sam", "last_name": "Test", "email": SAMI, "phone": ""})
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert db.session.scalar(select(func.count()).select_from(CoParent)) == 0
    client.post("/auth/signout")
    login(client, PARENT2)
    free = answer(
        client, {"first_name": "Sam", "last_name": "Test", "email": "libre@example.tn", "phone": ""}
    )
    assert taken[:3] == free[:3]
    assert taken[3] == free[3], (taken[3], free[3])
    assert taken[0] == 303 and taken[2] == ["Invitation envoyée à X. Le lien est valable 72 heures."]
    assert "En attente d'activation" in taken[3]

    run_jobs()
    notice = smtp.wait_for(SAMI)
    assert "indiquée pour un espace famille" in notice["Subject"]
    assert "/auth/activate" not in notice.as_string()
    assert [row.template for row in outbox_to(SAMI)] == ["co_parent_address_in_use"]

    # A second invitation is refused as for any waiting one; resending tells the owner once a day.
    client.post("/auth/signout")
    login(client, PARENT)
    assert invite(client, {**INVITATION, "email": "autre@example.tn"}).status_code == 409
    assert outbox_to("autre@example.tn") == []


def test_resending_the_link_once_a_minute(client, login, run_jobs, smtp):
    with freeze_time("2030-03-04 08:00:00") as frozen:
        login(client, PARENT)
        invite(client)
        refused = client.post(RESEND)
        assert refused.status_code == 409
        assert "attendez une minute" in html(refused)
        frozen.tick(timedelta(seconds=61))
        assert client.post(RESEND).status_code == 303
        assert f"Nouveau lien envoyé à {CO_PARENT}. Il est valable 72 heures." in flashes(
            html(client.get(CHILDREN))
        )
        tokens = list(
            db.session.scalars(
                select(UserToken).where(
                    UserToken.user_id == user(CO_PARENT).id, UserToken.purpose == TokenPurpose.ACTIVATION
                )
            )
        )
        assert len(tokens) == 2 and sum(t.used_at is None for t in tokens) == 1  # the old link is revoked
        assert [r.template for r in outbox_to(CO_PARENT)] == ["account_activation"] * 2
        # After 72 hours the page says the link expired, and it can still be sent again.
        frozen.tick(timedelta(hours=73))
        client.post("/auth/signout")
        login(client, PARENT)
        assert "le lien a expiré" in section(html(client.get(CHILDREN)), "second-parent")


def test_resending_for_an_address_in_use_tells_its_owner_once_a_day(client, login):
    with freeze_time("2030-03-04 08:00:00") as frozen:
        login(client, PARENT)
        invite(client, {**INVITATION, "email": SAMI})
        frozen.tick(timedelta(seconds=61))
        assert client.post(RESEND).status_code == 303
        assert len(outbox_to(SAMI)) == 1
        frozen.tick(timedelta(days=1))
        client.post("/auth/signout")
        login(client, PARENT)
        assert client.post(RESEND).status_code == 303
        assert len(outbox_to(SAMI)) == 2
        assert db.session.scalar(select(func.count()).select_from(CoParent)) == 0


def test_nothing_to_resend_is_said(client, login):
    login(client, PARENT)
    refused = client.post(RESEND)
    assert refused.status_code == 409 and "Aucune invitation n'attend d'activation." in html(refused)


CANCEL = "/dashboard/parent/enfants/second-parent/annuler"


@pytest.mark.parametrize("address", [CO_PARENT, SAMI])
def test_a_waiting_invitation_is_withdrawn_and_another_may_follow(
    app, client, login, run_jobs, smtp, address
):
    """Alike for a new address (its account and link go) and one in use (nothing was made)."""
    login(client, PARENT)
    invite(client, {**INVITATION, "email": address})
    run_jobs()
    link = link_in(smtp.wait_for(CO_PARENT), "/auth/activate") if address == CO_PARENT else None
    box = section(html(client.get(CHILDREN)), "second-parent")
    assert f'href="{CANCEL}"' in box
    page = html(client.get(CANCEL))
    assert "Karim Ben Ali" in page and f"({address})" in page and 'hx-confirm="' in page

    response = client.post(CANCEL)
    assert response.status_code == 303 and response.headers["Location"] == f"{CHILDREN}#second-parent"
    page = html(client.get(CHILDREN))
    assert "L'invitation de Karim est annulée : son lien ne fonctionne plus." in flashes(page)
    assert 'name="email"' in section(page, "second-parent")  # the form is back
    assert db.session.scalar(select(func.count()).select_from(CoParent)) == 0
    assert db.session.scalar(select(User).where(User.email == CO_PARENT)) is None
    assert user(SAMI).role is Role.ELEVE  # the owner of an address in use is untouched
    (line,) = audit_lines("family.co_parent_invitation_cancelled")
    assert line.after == {"first_name": "Karim", "email": address}
    if link:
        assert app.test_client().get(link).status_code in (404, 410)

    # A second click says so; another person may now be invited.
    assert client.post(CANCEL).status_code == 303
    assert "Aucune invitation n'attend d'activation." in flashes(html(client.get(CHILDREN)))
    other = {**INVITATION, "first_name": "Sonia", "email": "sonia@example.tn"}
    assert invite(client, other).status_code == 303
    assert user("sonia@example.tn").role is Role.PARENT


def test_an_active_co_parent_is_not_withdrawn_here(app, client, login, run_jobs, smtp):
    login(client, PARENT)
    invite(client)
    run_jobs()
    link = link_in(smtp.wait_for(CO_PARENT), "/auth/activate")
    app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    before = fingerprint()
    assert client.post(CANCEL).status_code == 303
    assert changed_tables(before, fingerprint()) == []
    assert "Annuler l'invitation" not in section(html(client.get(CHILDREN)), "second-parent")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"email": ""}, "Indiquez son adresse e-mail."),
        ({"email": "pas-un-email"}, "Adresse e-mail invalide."),
        ({"phone": "12"}, "Numéro de téléphone invalide"),
        ({"first_name": ""}, "Indiquez le prénom."),
    ],
)
def test_a_bad_invitation_is_refused_next_to_the_field(client, login, values, message):
    login(client, PARENT)
    before = fingerprint()
    response = invite(client, {**INVITATION, **values})
    assert response.status_code == 422
    assert message in section(html(response), "second-parent")
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.ratelimited
def test_the_invitation_form_is_rate_limited(client, login):
    login(client, PARENT)
    for _ in range(10):
        invite(client, {**INVITATION, "email": "pas-un-email"})
    assert invite(client).status_code == 429
    assert db.session.scalar(select(func.count()).select_from(CoParent)) == 0


# -- fifty at once, on committed data ------------------------------------------------------------------


@pytest.mark.committed
def test_fifty_concurrent_invitations_make_one_co_parent(app):
    parent_id = user(PARENT).id
    db.session.remove()

    def attempt(i: int) -> str:
        parent = db.session.get_one(User, parent_id)
        co_parents.invite(parent, family.ParentDraft("Karim", "Ben Ali", f"karim{i}@example.tn"))
        return "invited"

    results = at_once(app, attempt)
    assert results.count("invited") == 1
    assert {r.message for r in refusals(results)} == {
        "Votre famille a déjà deux parents : vous ne pouvez pas en inviter un autre."
    }
    assert db.session.scalar(select(func.count()).select_from(CoParent)) == 1
    created = db.session.scalar(select(func.count()).where(User.email.like("karim%@example.tn")))
    assert created == 1
    assert len(audit_lines("family.co_parent_invited")) == 1


@pytest.mark.committed
def test_fifty_concurrent_removals_remove_once_without_error(app, login):
    lina = new_child()
    student_id, user_id = lina.id, lina.user_id
    clients = [login(app.test_client(), PARENT) for _ in range(50)]
    db.session.remove()

    def attempt(i: int):  # type: ignore[no-untyped-def]
        response = clients[i].post(remove_url(student_id))
        return response.status_code, clients[i].get(CHILDREN).get_data(as_text=True)

    results = at_once(app, attempt)
    assert all(status == 303 for status, _ in results), [s for s, _ in results]
    said = [flashes(html_text) for _, html_text in results]
    assert sum("Lina a été retiré(e) de votre famille." in f for f in said) == 1
    assert sum("Lina a déjà été retiré(e) de votre famille." in f for f in said) == 49
    assert db.session.get(Student, student_id) is None and db.session.get(User, user_id) is None
    assert len(audit_lines("family.child_removed")) == 1


# -- both parents are told ----------------------------------------------------------------------


def active_co_parent() -> User:
    """Karim, co-parent of the demo family, already activated."""
    karim = User(
        email=CO_PARENT, role=Role.PARENT, first_name="Karim", last_name="Ben Ali", activated_at=utcnow()
    )
    db.session.add(karim)
    db.session.flush()
    db.session.add(CoParent(profile_id=family.parent_profile(user(PARENT)).id, user_id=karim.id))
    db.session.flush()
    return karim


def mails_to(template: str) -> set[str]:
    stmt = select(OutboxEmail.to_email).where(OutboxEmail.template == template)
    return set(db.session.scalars(stmt))


def test_both_parents_are_reminded_of_expiring_credits(app):
    active_co_parent()
    yasmine = factories.student(YASMINE)
    credits.grant(yasmine.id, Decimal(2), LotSource.MANUAL, utcnow() + timedelta(days=5))
    db.session.commit()
    assert remind_expiring_credits() == 1  # one lot
    assert mails_to("credits_expiring") == {PARENT, CO_PARENT}
    assert remind_expiring_credits() == 0  # once per lot and parent


def test_both_parents_receive_the_session_report(app):
    active_co_parent()
    yasmine, helios = factories.student(YASMINE), factories.coach("Hélios")
    past = factories.booking(yasmine.id, helios.id, utcnow() - timedelta(hours=3))
    data = scheduling.ReportInput(
        summary="Les suites", topics="Récurrence", rating=4, progress_notes="Bien",
        recommendations="Exercices", attended=True,
    )  # fmt: skip
    scheduling.write_report(helios.user, past.id, data)
    assert mails_to("session_report") == {PARENT, CO_PARENT}


def test_both_parents_see_the_familys_payments_and_invoices(app, client, login):
    karim = active_co_parent()
    karim.password_hash = identity.hash_password(NEW_PASSWORD)
    nadia, yasmine = user(PARENT), factories.student(YASMINE)
    payment = billing.declare_transfer(nadia, billing.build_order(nadia, yasmine.id, "CREDITS_5", None))
    db.session.commit()
    login(client, CO_PARENT, NEW_PASSWORD)
    assert payment.reference in html(client.get("/dashboard/parent"))  # waiting for the centre
    assert payment.reference in html(client.get("/dashboard/parent/paiements"))

    billing.approve(payment.id, user(ADMIN))
    db.session.commit()
    (invoice,) = invoices.of_user(karim)
    assert invoice.beneficiary_id == nadia.id
    assert client.get(f"/factures/{invoice.id}/pdf").status_code == 200
    other = login(app.test_client(), PARENT2)  # another family sees none of it
    assert payment.reference not in html(other.get("/dashboard/parent/paiements"))
    assert other.get(f"/factures/{invoice.id}/pdf").status_code == 404
