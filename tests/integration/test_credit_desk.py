"""Credits by hand and by request: nothing counts until staff approve, everything is audited."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.credits import CreditRequest, RequestStatus
from nexus.models.identity import User
from nexus.models.notifications import Notification
from nexus.services import ServiceError, credits
from tests import factories
from tests.helpers import FIFTY, adam, at_once, refusals
from tests.people import ASSISTANTE, HX, PARENT, SAMI, YASMINE

YES = {"confirm": "1"}  # what a row posts once its hx-confirm (or the confirmation page) said yes


def test_a_parent_request_counts_nothing_until_approved(client, login, yasmine):
    login(client, PARENT)
    response = client.post(
        "/dashboard/parent/credits/demande", data={"eleve": yasmine.id, "amount": "3", "reason": "Bac blanc"}
    )
    assert response.status_code == 303
    request_row = db.session.scalar(select(CreditRequest).where(CreditRequest.student_id == yasmine.id))
    assert request_row.status is RequestStatus.PENDING
    assert credits.balance(yasmine.id) == 0

    client.post("/auth/signout")
    login(client, ASSISTANTE)
    assert "Bac blanc" in client.get("/dashboard/assistante/credits").get_data(as_text=True)
    url = f"/dashboard/assistante/credits/demandes/{request_row.id}/approuver"
    row = client.post(url, data=YES, headers=HX)
    assert row.status_code == 200 and "Approuvée" in row.get_data(as_text=True)
    assert credits.balance(yasmine.id) == 3
    again = client.post(url, data=YES, headers=HX)
    # A second click is not an error: the row shows the state (nexus/rows.py).
    assert again.status_code == 200 and "déjà été traitée" in again.get_data(as_text=True)
    assert credits.balance(yasmine.id) == 3


def test_a_rejected_request_grants_nothing_and_needs_a_reason(client, login, yasmine):
    parent = db.session.scalar(select(User).where(User.email == PARENT))
    row = credits.request_credits(parent.id, yasmine.id, Decimal(2), None)
    db.session.commit()
    login(client, ASSISTANTE)
    assert (
        client.post(
            f"/dashboard/assistante/credits/demandes/{row.id}/refuser", data={"reason": "", **YES}, headers=HX
        ).status_code
        == 422
    )
    ok = client.post(
        f"/dashboard/assistante/credits/demandes/{row.id}/refuser",
        data={"reason": "Formule requise", **YES},
        headers=HX,
    )
    assert "Refusée" in ok.get_data(as_text=True)
    assert credits.balance(yasmine.id) == 0


def test_without_javascript_a_decision_asks_first_then_lists_it_as_processed(client, login, yasmine):
    parent = db.session.scalar(select(User).where(User.email == PARENT))
    row = credits.request_credits(parent.id, yasmine.id, Decimal(2), "Stage")
    db.session.commit()
    login(client, ASSISTANTE)
    url = f"/dashboard/assistante/credits/demandes/{row.id}/refuser"
    short = client.post(url, data={"reason": "Non"})
    assert short.status_code == 200 and "Refuser cette demande de crédits ?" in short.get_data(as_text=True)
    refused = client.post(url, data={"reason": "Non", **YES})
    assert refused.status_code == 422 and "5 caractères" in refused.get_data(as_text=True)
    done = client.post(url, data={"reason": "Formule requise", **YES})
    assert done.status_code == 303 and done.headers["Location"] == "/dashboard/assistante/credits"
    desk = client.get("/dashboard/assistante/credits").get_data(as_text=True)
    recent = desk.split("Traités ces 7 derniers jours")[1]
    assert "Yasmine" in recent and "Refusée : Formule requise" in recent and "Leïla Trabelsi" in recent


def test_a_request_decided_the_other_way_meanwhile_is_a_conflict(client, login, yasmine):
    parent = db.session.scalar(select(User).where(User.email == PARENT))
    row = credits.request_credits(parent.id, yasmine.id, Decimal(2), None)
    db.session.commit()
    login(client, ASSISTANTE)
    client.post(f"/dashboard/assistante/credits/demandes/{row.id}/approuver", data=YES, headers=HX)
    late = client.post(
        f"/dashboard/assistante/credits/demandes/{row.id}/refuser",
        data={"reason": "Formule requise", **YES},
        headers=HX,
    )
    assert late.status_code == 409 and "Approuvée" in late.get_data(as_text=True)


def test_the_balances_table_is_searched_in_place(client, login, yasmine):
    login(client, ASSISTANTE)
    found = client.get("/dashboard/assistante/credits?q=yasmine", headers=HX).get_data(as_text=True)
    assert found.lstrip().startswith('<div class="results" id="balances-table">') and "Yasmine" in found
    none = client.get("/dashboard/assistante/credits?q=zzz", headers=HX).get_data(as_text=True)
    assert "Yasmine" not in none and "Aucun élève" in none


def test_a_parent_cannot_ask_for_someone_elses_child(client, login):
    sami = factories.student(SAMI)
    login(client, PARENT)
    assert (
        client.post("/dashboard/parent/credits/demande", data={"eleve": sami.id, "amount": "3"}).status_code
        == 404
    )


@pytest.mark.parametrize("amount", ["0", "-2", "abc", "9999"])
def test_absurd_requests_are_refused_in_french(client, login, yasmine, amount):
    login(client, PARENT)
    response = client.post(
        "/dashboard/parent/credits/demande",
        data={"eleve": yasmine.id, "amount": amount},
        follow_redirects=True,
    )
    assert "entre 1 et 20" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(CreditRequest.student_id == yasmine.id)) == 0


def test_manual_grant_and_deduction_are_audited(client, login, yasmine):
    login(client, ASSISTANTE)
    client.post(
        "/dashboard/assistante/credits/ajustement",
        data={"eleve": yasmine.id, "amount": "2,5", "reason": "Geste commercial", "days": "30"},
    )
    assert credits.balance(yasmine.id) == Decimal("2.5")
    client.post(
        "/dashboard/assistante/credits/ajustement",
        data={"eleve": yasmine.id, "amount": "1", "direction": "retirer", "reason": "Erreur de saisie"},
    )
    assert credits.balance(yasmine.id) == Decimal("1.5")
    refused = client.post(
        "/dashboard/assistante/credits/ajustement",
        data={"eleve": yasmine.id, "amount": "5", "direction": "retirer", "reason": "Trop"},
        follow_redirects=True,
    )
    assert "motif" in refused.get_data(as_text=True)  # "Trop" is too short a reason
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("credits.%"))))
    assert actions == {"credits.manual_grant", "credits.manual_deduct"}


def test_the_student_sees_balance_lots_and_history(client, login):
    login(client, SAMI)
    html = client.get("/dashboard/eleve/credits").get_data(as_text=True)
    assert "Allocation mensuelle" in html and "crédits disponibles" in html


@pytest.mark.committed
def test_fifty_concurrent_approvals_of_one_request_grant_once(app):
    with app.app_context():
        parent = db.session.scalar(select(User).where(User.email == PARENT))
        staff_id = db.session.scalar(select(User.id).where(User.email == ASSISTANTE))
        yasmine = factories.student(YASMINE)
        request_id = credits.request_credits(parent.id, yasmine.id, Decimal(2), None).id
        student_id = yasmine.id
        db.session.commit()

    results = at_once(app, lambda _: credits.decide_request(request_id, True, staff_id))
    assert len(refusals(results)) == FIFTY - 1
    with app.app_context():
        assert credits.balance(student_id) == 2


# -- bounds on parents' requests (issue 8, item 10): each one notifies every staff member ----------

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _ask(client, student_id, amount="2"):
    return client.post("/dashboard/parent/credits/demande", data={"eleve": student_id, "amount": amount})


def _staff_notices() -> int:
    return db.session.scalar(select(func.count()).where(Notification.kind == "CREDIT_REQUEST"))


def test_one_pending_request_per_child(client, login, yasmine):
    login(client, PARENT)
    assert _ask(client, yasmine.id).status_code == 303
    notices = _staff_notices()
    again = _ask(client, yasmine.id, "3")
    assert again.status_code == 422 and "attend déjà" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(CreditRequest.student_id == yasmine.id)) == 1
    assert _staff_notices() == notices
    assert _ask(client, adam().id).status_code == 303  # another child is another request

    staff = db.session.scalar(select(User.id).where(User.email == ASSISTANTE))
    pending = db.session.scalar(select(CreditRequest).where(CreditRequest.student_id == yasmine.id))
    credits.decide_request(pending.id, False, staff, "Formule requise")
    assert _ask(client, yasmine.id).status_code == 303  # once answered, the child may ask again


def test_a_parent_sends_a_bounded_number_of_requests_a_day(yasmine):
    parent = db.session.scalar(select(User).where(User.email == PARENT))
    staff = db.session.scalar(select(User.id).where(User.email == ASSISTANTE))
    with freeze_time(NOW) as clock:
        for _ in range(credits.MAX_REQUESTS_PER_DAY):
            row = credits.request_credits(parent.id, yasmine.id, Decimal(1), None)
            credits.decide_request(row.id, False, staff, "Pas maintenant")
            clock.tick(timedelta(minutes=30))
        with pytest.raises(ServiceError, match="24 heures"):
            credits.request_credits(parent.id, yasmine.id, Decimal(1), None)
        clock.move_to(NOW + timedelta(hours=24, minutes=1))
        row = credits.request_credits(parent.id, yasmine.id, Decimal(1), None)
        assert row.status is RequestStatus.PENDING


@pytest.mark.committed
def test_fifty_concurrent_requests_for_one_child_give_one(app):
    with app.app_context():
        parent_id = db.session.scalar(select(User.id).where(User.email == PARENT))
        student_id = factories.student(YASMINE).id
    results = at_once(app, lambda _: credits.request_credits(parent_id, student_id, Decimal(2), None))
    assert len(refusals(results)) == FIFTY - 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(CreditRequest.student_id == student_id)) == 1
