"""Admin tables: accounts (deactivate ends sessions at once) and the audit log."""

from sqlalchemy import select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.identity import User
from tests.people import ADMIN, ASSISTANTE, DEMO_PASSWORD, HELIOS, HX, PARENT, SAMI, YASMINE

YES = {"confirm": "1"}  # what a row posts once its hx-confirm (or the confirmation page) said yes


def user_id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


def test_only_admin_sees_the_users_table(client, auth):
    auth.login(ASSISTANTE)
    assert client.get("/dashboard/admin/utilisateurs").status_code == 403
    auth.logout()
    auth.login(ADMIN)
    page = client.get("/dashboard/admin/utilisateurs?q=gharbi")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert SAMI in html
    assert YASMINE not in html


def test_search_fragment_for_htmx(client, login):
    login(client, ADMIN)
    fragment = client.get("/dashboard/admin/utilisateurs?role=COACH", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment
    assert HELIOS in fragment
    assert PARENT not in fragment


def test_deactivation_ends_open_sessions_and_is_audited(app, client, login):
    parent = app.test_client()
    login(parent, PARENT)
    assert parent.get("/dashboard/parent").status_code == 200

    login(client, ADMIN)
    target = user_id(PARENT)
    row = client.post(f"/dashboard/admin/utilisateurs/{target}/desactiver", data=YES, headers=HX)
    assert row.status_code == 200
    assert row.get_data(as_text=True).startswith('<tr id="user-')
    assert "Désactivé" in row.get_data(as_text=True)

    # The parent's open session is over, and signing in again is refused.
    assert parent.get("/dashboard/parent").status_code == 302
    again = parent.post(
        "/auth/signin", data={"email": PARENT, "password": DEMO_PASSWORD}
    )
    assert again.status_code == 422

    line = db.session.scalar(select(AuditLog).where(AuditLog.action == "account.deactivated"))
    assert line is not None
    assert line.object_id == target
    assert line.before == {"is_active": True}
    assert line.after == {"is_active": False}

    # A second click changes nothing and writes no second line.
    client.post(f"/dashboard/admin/utilisateurs/{target}/desactiver", data=YES, headers=HX)
    lines = db.session.scalars(select(AuditLog).where(AuditLog.action == "account.deactivated")).all()
    assert len(lines) == 1

    client.post(f"/dashboard/admin/utilisateurs/{target}/activer", data=YES, headers=HX)
    assert login(parent, PARENT).get("/dashboard/parent").status_code == 200


def test_admin_cannot_deactivate_self_and_unknown_id_is_404(client, login):
    login(client, ADMIN)
    own = client.post(f"/dashboard/admin/utilisateurs/{user_id(ADMIN)}/desactiver", headers=HX)
    assert own.status_code == 422
    assert "propre compte" in own.get_data(as_text=True)
    assert db.session.get(User, user_id(ADMIN)).is_active
    assert client.post("/dashboard/admin/utilisateurs/999999/desactiver", headers=HX).status_code == 404


def test_without_javascript_deactivation_asks_first_and_returns_to_the_list(client, login):
    login(client, ADMIN)
    target = user_id(PARENT)
    back = "/dashboard/admin/utilisateurs?q=ben+ali"
    url = f"/dashboard/admin/utilisateurs/{target}/desactiver"
    page = client.post(url, data={"retour": back})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Désactiver le compte de Nadia Ben Ali ?" in html
    assert 'name="confirm" value="1"' in html and f'value="{back}"' in html
    assert db.session.get(User, target).is_active
    done = client.post(url, data={"retour": back, **YES})
    assert done.status_code == 303 and done.headers["Location"] == back
    assert not db.session.get(User, target).is_active
    assert "Compte de Nadia Ben Ali désactivé." in client.get(back).get_data(as_text=True)


def test_from_the_account_page_deactivation_returns_to_it(client, login):
    login(client, ADMIN)
    target = user_id(PARENT)
    page = f"/dashboard/admin/utilisateurs/{target}"
    done = client.post(f"{page}/desactiver", data={"retour": page, **YES})
    assert done.status_code == 303 and done.headers["Location"] == page


def test_audit_log_lists_sign_ins(client, login):
    login(client, ADMIN)
    page = client.get("/dashboard/admin/audit?action=auth.").get_data(as_text=True)
    assert "auth.signin" in page
    assert "Amira Ben Salah" in page


def test_subscriptions_table_shows_active_plans(client, login):
    login(client, ADMIN)
    html = client.get("/dashboard/admin/abonnements").get_data(as_text=True)
    assert "Sami Gharbi" in html and "Hybride" in html and "Mathématiques" in html
    assert "Sami Gharbi" not in client.get("/dashboard/admin/abonnements?statut=EXPIRED").get_data(
        as_text=True
    )
