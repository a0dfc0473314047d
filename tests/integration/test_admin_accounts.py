"""Admin account management: create (activation link, never a password), edit, confirm a new
e-mail from that address, delete = anonymise (money records kept), and the last active admin."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.billing import Invoice, Payment, PaymentStatus
from nexus.models.common import Grade, Role
from nexus.models.credits import CreditEntry, CreditLot
from nexus.models.family import CoParent, Student
from nexus.models.identity import TokenPurpose, User, UserSession, UserToken
from nexus.models.notifications import Notification, OutboxEmail, OutboxStatus
from nexus.services import ServiceError, accounts, billing, erasure, family, identity, utcnow
from tests import factories
from tests.helpers import NEW_PASSWORD, at_once, changed_tables, fingerprint, html, link_in, outbox_to, user
from tests.people import ADMIN, ASSISTANTE, DEMO_PASSWORD, HX, PARENT, PARENT2, SAMI, YASMINE

USERS = "/dashboard/admin/utilisateurs"
NEW = f"{USERS}/nouveau"
PERSON = {"first_name": "Leïla", "last_name": "Trabelsi", "phone": "22 333 444"}


def page_of(user_id: int) -> str:
    return f"{USERS}/{user_id}"


def audit_lines(action: str, object_id: int | None = None) -> list[AuditLog]:
    stmt = select(AuditLog).where(AuditLog.action == action)
    if object_id is not None:
        stmt = stmt.where(AuditLog.object_id == object_id)
    return list(db.session.scalars(stmt.order_by(AuditLog.id)))


def find(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


# -- creating accounts --------------------------------------------------------------------------


def test_created_assistante_activates_and_reaches_her_dashboard(app, client, login, run_jobs, smtp):
    login(client, ADMIN)
    form = client.get(NEW)
    assert form.status_code == 200
    assert "/dashboard/assistante/coachs/nouveau" in html(form)  # coaches keep their own flow
    done = client.post(NEW, data={"role": "ASSISTANTE", "email": "Leila@Example.TN", **PERSON})
    assert done.status_code == 303
    created = find("leila@example.tn")
    assert created is not None and created.role is Role.ASSISTANTE
    assert created.password_hash is None and created.activated_at is None
    assert created.phone == "+216 22 333 444"
    assert done.headers["Location"] == page_of(created.id)
    page = html(client.get(done.headers["Location"]))
    assert "Compte de Leïla Trabelsi créé" in page
    assert "En attente d'activation" in page and "lien d'activation valable jusqu'au" in page
    [line] = audit_lines("account.created", created.id)
    assert line.actor_id == user(ADMIN).id and line.after == {"role": "ASSISTANTE", "children": 0}

    assert run_jobs() >= 1
    link = link_in(smtp.wait_for("leila@example.tn"), "/auth/activate")
    she = app.test_client()
    assert "Bienvenue Leïla" in html(she.get(link))
    assert she.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303
    signed_in = she.post("/auth/signin", data={"email": "leila@example.tn", "password": NEW_PASSWORD})
    assert signed_in.status_code == 303
    assert she.get("/dashboard").headers["Location"] == "/dashboard/assistante"
    assert she.get("/dashboard/assistante").status_code == 200


def test_created_parent_with_two_children(client, login, run_jobs):
    login(client, ADMIN)
    child = {
        "children-0-first_name": "Rania",
        "children-0-last_name": "Trabelsi",
        "children-0-grade": "PREMIERE",
    }
    # "Ajouter un autre enfant" without JavaScript: the form comes back, nothing created.
    more = client.post(
        NEW, data={"role": "PARENT", "email": "famille@example.tn", **PERSON, **child, "enfant": "ajouter"}
    )
    assert more.status_code == 200
    assert 'name="children-1-first_name"' in html(more) and 'value="Rania"' in html(more)
    assert find("famille@example.tn") is None
    second = {
        "children-1-first_name": "Omar",
        "children-1-last_name": "Trabelsi",
        "children-1-grade": "SECONDE",
    }
    second |= {"children-1-email": "omar@example.tn"}
    done = client.post(
        NEW, data={"role": "PARENT", "email": "famille@example.tn", **PERSON, **child, **second}
    )
    assert done.status_code == 303
    parent = find("famille@example.tn")
    assert parent is not None and parent.role is Role.PARENT
    kids = family.children(parent)
    assert [(k.user.first_name, k.grade) for k in kids] == [
        ("Rania", Grade.PREMIERE),
        ("Omar", Grade.SECONDE),
    ]
    page = html(client.get(done.headers["Location"]))
    assert "Rania Trabelsi" in page and "Omar Trabelsi" in page
    assert audit_lines("account.created", parent.id)[0].after == {"role": "PARENT", "children": 2}
    run_jobs()
    assert [r.template for r in outbox_to("famille@example.tn")] == ["account_activation"]
    assert [r.template for r in outbox_to("omar@example.tn")] == ["activation"]


def test_a_parent_without_children_and_a_child_error_kept(client, login):
    login(client, ADMIN)
    bad = client.post(
        NEW,
        data={"role": "PARENT", "email": "seul@example.tn", **PERSON, "children-0-first_name": "Rania"},
    )
    assert bad.status_code == 422
    assert "Indiquez le nom." in html(bad) and 'value="Rania"' in html(bad)
    assert find("seul@example.tn") is None
    assert client.post(NEW, data={"role": "PARENT", "email": "seul@example.tn", **PERSON}).status_code == 303
    assert family.children(find("seul@example.tn")) == []


def test_creating_an_admin_asks_for_the_creators_password(client, login):
    login(client, ADMIN)
    data = {"role": "ADMIN", "email": "admin2@example.tn", **PERSON}
    missing = client.post(NEW, data=data)
    assert missing.status_code == 422
    assert "Saisissez votre mot de passe pour créer un administrateur." in html(missing)
    wrong = client.post(NEW, data={**data, "password": "pas le bon mot de passe"})
    assert wrong.status_code == 422
    assert "Mot de passe incorrect" in html(wrong)
    assert 'value="admin2@example.tn"' in html(wrong)  # the rest of the form kept
    assert find("admin2@example.tn") is None
    right = client.post(NEW, data={**data, "password": DEMO_PASSWORD})
    assert right.status_code == 303
    created = find("admin2@example.tn")
    assert created is not None and created.role is Role.ADMIN and created.password_hash is None


def test_an_address_in_use_is_refused_with_a_link_to_its_account(client, login):
    login(client, ADMIN)
    before = fingerprint()
    taken = client.post(NEW, data={"role": "ASSISTANTE", "email": "Parent@Nexus-Reussite.tn", **PERSON})
    assert taken.status_code == 422
    page = html(taken)
    assert "Cette adresse e-mail est déjà utilisée par un autre compte." in page
    assert f'href="{page_of(user(PARENT).id)}"' in page
    assert changed_tables(before, fingerprint()) == []


def test_a_coach_is_not_created_here(client, login):
    login(client, ADMIN)
    refused = client.post(NEW, data={"role": "COACH", "email": "coach@example.tn", **PERSON})
    assert refused.status_code == 422
    assert "Choisissez un profil dans la liste." in html(refused)
    assert find("coach@example.tn") is None


# -- the account page ---------------------------------------------------------------------------


def test_edit_names_and_phone_is_audited(client, login):
    login(client, ADMIN)
    target = user(PARENT)
    page = html(client.get(page_of(target.id)))
    assert "Nadia" in page and "Yasmine" in page  # the parent's children are listed
    done = client.post(
        page_of(target.id),
        data={
            "first_name": "Nadia",
            "last_name": "Ben Ali-Haddad",
            "phone": "+33 6 12 34 56 78",
            "email": PARENT,
        },
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert target.last_name == "Ben Ali-Haddad" and target.phone == "+33 6 12 34 56 78"
    [line] = audit_lines("account.updated", target.id)
    assert line.before["last_name"] == "Ben Ali" and line.after["last_name"] == "Ben Ali-Haddad"
    assert "first_name" not in line.after  # only what changed
    bad = client.post(
        page_of(target.id), data={"first_name": "N", "last_name": "X" * 81, "phone": "12", "email": PARENT}
    )
    assert bad.status_code == 422
    assert "Entre 2 et 80 caractères." in html(bad) and "Numéro de téléphone invalide" in html(bad)


def test_email_change_is_confirmed_from_the_new_address(app, client, login, run_jobs, smtp):
    login(client, ADMIN)
    target = user(PARENT)
    asked = client.post(
        page_of(target.id),
        data={"first_name": "Nadia", "last_name": "Ben Ali", "phone": "", "email": "nadia.new@example.tn"},
    )
    assert asked.status_code == 303
    page = re.sub(r"<[^>]+>", "", html(client.get(page_of(target.id))))
    assert "Nouvelle adresse en attente de confirmation : nadia.new@example.tn (jusqu'au" in page
    assert find(PARENT) is not None  # the old address is kept until the link is used
    run_jobs()
    link = link_in(smtp.wait_for("nadia.new@example.tn"), "/auth/confirmer-email")

    someone = app.test_client()
    for _ in range(2):  # a GET (a mail scanner, a preview) never uses the link
        shown = someone.get(link)
        assert shown.status_code == 200 and "Confirmer cette adresse" in html(shown)
    assert find(PARENT) is not None
    done = someone.post(link)
    assert done.status_code == 303 and done.headers["Location"] == "/auth/signin"
    assert find(PARENT) is None and find("nadia.new@example.tn").id == target.id
    again = someone.post(link)
    assert again.status_code == 410 and "Ce lien a déjà servi" in html(again)
    [line] = audit_lines("account.email_changed", target.id)
    assert line.before == {"email": PARENT} and line.after == {"email": "nadia.new@example.tn"}
    run_jobs()
    told = smtp.wait_for(PARENT)
    assert "nadia.new@example.tn" in told.as_string() and "modifiée" in told["Subject"]
    new_login = someone.post(
        "/auth/signin", data={"email": "nadia.new@example.tn", "password": DEMO_PASSWORD}
    )
    assert new_login.status_code == 303


def test_email_change_refused_when_the_address_was_taken_meanwhile(client, login, run_jobs, smtp):
    login(client, ADMIN)
    target = user(PARENT)
    client.post(
        page_of(target.id), data={"first_name": "Nadia", "last_name": "Ben Ali", "email": "pris@example.tn"}
    )
    run_jobs()
    link = link_in(smtp.wait_for("pris@example.tn"), "/auth/confirmer-email")
    # Meanwhile an account is opened with that address.
    assert (
        client.post(NEW, data={"role": "ASSISTANTE", "email": "pris@example.tn", **PERSON}).status_code == 303
    )
    refused = client.post(link)
    assert refused.status_code == 409
    assert "utilisée par un autre compte" in html(refused)
    assert find(PARENT).id == target.id
    assert audit_lines("account.email_changed") == []


def test_email_change_to_a_used_address_and_cancel(client, login):
    login(client, ADMIN)
    target = user(PARENT)
    used = client.post(
        page_of(target.id), data={"first_name": "Nadia", "last_name": "Ben Ali", "email": YASMINE}
    )
    assert used.status_code == 422
    assert "déjà utilisée" in html(used) and f'href="{page_of(user(YASMINE).id)}"' in html(used)
    client.post(
        page_of(target.id), data={"first_name": "Nadia", "last_name": "Ben Ali", "email": "autre@example.tn"}
    )
    assert accounts.pending_email_change(target.id).email == "autre@example.tn"
    cancelled = client.post(f"{page_of(target.id)}/email/annuler")
    assert cancelled.status_code == 303
    assert accounts.pending_email_change(target.id) is None
    assert "en attente de confirmation" not in html(client.get(page_of(target.id)))


def test_unknown_or_expired_link_pages(client):
    unknown = client.get("/auth/confirmer-email?token=nope")
    assert unknown.status_code == 410 and "Lien non valable" in html(unknown)
    target = user(PARENT)
    raw = identity.issue_token(target, TokenPurpose.EMAIL_CHANGE, timedelta(hours=72), email="x@example.tn")
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(hours=73)):
        expired = client.post(f"/auth/confirmer-email?token={raw}")
    assert expired.status_code == 410 and "Ce lien a expiré" in html(expired)
    assert find(PARENT) is not None


@pytest.mark.parametrize(
    "token", ["", "x" * 5000, "\x1b[31m", "' OR 1=1 --", "é\u202e", "a\r\nb", "%00", "{{7*7}}", "٣"]
)
def test_confirm_email_link_fuzz(client, token):
    """The public e-mail confirmation: any token, GET or POST, never a 5xx, nothing written."""
    before = fingerprint()
    for response in (
        client.get("/auth/confirmer-email", query_string={"token": token}),
        client.post("/auth/confirmer-email", query_string={"token": token}, data={"token": token}),
    ):
        assert response.status_code == 410
        assert "Lien non valable" in html(response)
    assert changed_tables(before, fingerprint()) == []


def test_resend_activation_at_most_once_a_minute(client, login, run_jobs):
    login(client, ADMIN)
    client.post(NEW, data={"role": "ASSISTANTE", "email": "leila@example.tn", **PERSON})
    created = find("leila@example.tn")
    too_soon = client.post(f"{page_of(created.id)}/activation")
    assert too_soon.status_code == 303
    assert "Patientez une minute" in html(client.get(page_of(created.id)))
    with time_machine.travel(utcnow() + timedelta(minutes=2)):
        assert client.post(f"{page_of(created.id)}/activation").status_code == 303
        assert "Nouveau lien d'activation envoyé" in html(client.get(page_of(created.id)))
    assert [r.template for r in outbox_to("leila@example.tn")] == ["account_activation"] * 2
    assert len(audit_lines("account.activation_resent", created.id)) == 1


def test_state_filter_and_row_link(client, login):
    login(client, ADMIN)
    client.post(NEW, data={"role": "ASSISTANTE", "email": "leila@example.tn", **PERSON})
    pending = html(client.get(f"{USERS}?etat=en-attente"))
    assert "leila@example.tn" in pending and ASSISTANTE not in pending
    active = html(client.get(f"{USERS}?etat=actifs"))
    assert ASSISTANTE in active and "leila@example.tn" not in active
    assert f'href="{page_of(find("leila@example.tn").id)}"' in pending
    assert 'href="/dashboard/admin/utilisateurs/nouveau"' in pending
    assert "Aucun compte ne correspond." in html(client.get(f"{USERS}?etat=anonymises"))


# -- delete = anonymise -------------------------------------------------------------------------


def paying_family() -> tuple[User, Student, Payment]:
    """A family opened by staff, whose transfer was approved (payment, invoice, credit lot)."""
    admin = user(ADMIN)
    parent = family.open_family(
        family.ParentDraft("Sonia", "Ayari", "sonia@example.tn", "+216 98 765 432"),
        [family.ChildDraft("Rania", "Ayari", Grade.PREMIERE, "rania@example.tn", "Lycée Pilote")],
        admin,
    )
    parent.password_hash = identity.hash_password(DEMO_PASSWORD)
    parent.activated_at = utcnow()
    family.parent_profile(parent).city = "Sousse"
    kid = family.children(parent)[0]
    payment = billing.declare_transfer(parent, billing.build_order(parent, kid.id, "CREDITS_5", None))
    billing.approve(payment.id, admin)
    db.session.commit()
    return parent, kid, payment


def test_anonymise_a_parent_keeps_payments_invoices_and_ledger(app, client, login):
    parent, kid, payment = paying_family()
    invoice = db.session.scalar(select(Invoice).where(Invoice.payment_id == payment.id))
    assert invoice is not None
    money = (payment.amount_millimes, invoice.total_millimes, invoice.number)
    lots = [
        (lot.id, lot.amount)
        for lot in db.session.scalars(select(CreditLot).where(CreditLot.student_id == kid.id))
    ]
    entries = db.session.scalar(
        select(func.count()).select_from(CreditEntry).where(CreditEntry.student_id == kid.id)
    )
    assert lots
    family_client = app.test_client()
    login(family_client, "sonia@example.tn")

    login(client, ADMIN)
    confirm = client.get(f"{page_of(parent.id)}/anonymiser")
    assert confirm.status_code == 200
    assert "Ce qui est conservé" in html(confirm) and "Supprimer définitivement ce compte" in html(confirm)
    done = client.post(f"{page_of(parent.id)}/anonymiser")
    assert done.status_code == 303 and done.headers["Location"] == page_of(parent.id)
    db.session.expire_all()

    for person in (parent, kid.user):
        assert (person.first_name, person.last_name) == ("Compte", "supprimé")
        assert person.email is None and person.phone is None and person.password_hash is None
        assert not person.is_active and person.anonymised_at is not None
        assert (
            db.session.scalar(
                select(func.count()).select_from(UserToken).where(UserToken.user_id == person.id)
            )
            == 0
        )
        assert (
            db.session.scalar(
                select(func.count()).select_from(Notification).where(Notification.user_id == person.id)
            )
            == 0
        )
    assert kid.school is None and kid.birth_date is None
    assert family.parent_profile(parent).city is None
    sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == parent.id)).all()
    assert sessions and all(s.revoked_at is not None for s in sessions)
    assert family_client.get("/dashboard/parent").status_code == 302  # signed out at once
    again = family_client.post("/auth/signin", data={"email": "sonia@example.tn", "password": DEMO_PASSWORD})
    assert again.status_code == 422
    # Nothing pending is sent to the erased addresses.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxEmail)
            .where(
                OutboxEmail.to_email.in_(["sonia@example.tn", "rania@example.tn"]),
                OutboxEmail.status == OutboxStatus.PENDING,
            )
        )
        == 0
    )

    # The money records are all there, with their amounts, pointing at the anonymised accounts.
    kept = db.session.get(Payment, payment.id)
    assert kept.status is PaymentStatus.COMPLETED and kept.payer_id == parent.id
    kept_invoice = db.session.get(Invoice, invoice.id)
    assert (kept.amount_millimes, kept_invoice.total_millimes, kept_invoice.number) == money
    assert [
        (lot.id, lot.amount)
        for lot in db.session.scalars(select(CreditLot).where(CreditLot.student_id == kid.id))
    ] == lots
    assert (
        db.session.scalar(
            select(func.count()).select_from(CreditEntry).where(CreditEntry.student_id == kid.id)
        )
        == entries
    )

    [line] = audit_lines("account.anonymised", parent.id)
    assert line.after == {"role": "PARENT", "children": 1}
    text = str(line.before) + str(line.after)
    assert "sonia" not in text.lower() and "Ayari" not in text
    assert "Supprimé (anonymisé)" in html(client.get(page_of(parent.id)))
    assert "Compte supprimé" in html(client.get(f"{USERS}?etat=anonymises"))

    # A second POST: nothing more.
    before = fingerprint()
    second = client.post(f"{page_of(parent.id)}/anonymiser")
    assert second.status_code == 303
    assert "Ce compte est déjà supprimé." in html(client.get(page_of(parent.id)))
    assert changed_tables(before, fingerprint()) == []
    assert len(audit_lines("account.anonymised", parent.id)) == 1


def test_anonymise_is_refused_for_oneself_and_with_upcoming_sessions(client, login, helios, yasmine):
    login(client, ADMIN)
    own = client.post(f"{page_of(user(ADMIN).id)}/anonymiser")
    assert own.status_code == 409 and "votre propre compte" in html(own)
    for days in (3, 4):
        factories.booking(yasmine.id, helios.id, utcnow() + timedelta(days=days))
    db.session.commit()
    warned = html(client.get(f"{page_of(user(PARENT).id)}/anonymiser"))  # said ahead, no button
    assert "Annulez d'abord les 2 séances à venir de ce compte et de ses enfants." in warned
    assert "Supprimer définitivement ce compte" not in warned
    before = fingerprint()
    parent = client.post(f"{page_of(user(PARENT).id)}/anonymiser")
    assert parent.status_code == 409
    assert "Annulez d'abord les 2 séances à venir" in html(parent)
    coach = client.post(f"{page_of(helios.user_id)}/anonymiser")
    assert coach.status_code == 409 and "séances à venir" in html(coach)
    assert changed_tables(before, fingerprint()) == []
    assert user(PARENT).anonymised_at is None


def test_anonymise_a_parent_with_a_co_parent_keeps_the_children(client, login):
    nadia = user(PARENT)
    karim = User(email="karim@example.tn", role=Role.PARENT, first_name="Karim", last_name="Ben Ali")
    db.session.add(karim)
    db.session.flush()
    db.session.add(CoParent(profile_id=family.parent_profile(nadia).id, user_id=karim.id))
    db.session.commit()
    login(client, ADMIN)
    assert "Karim Ben Ali" in html(client.get(page_of(nadia.id)))  # co-parents listed
    assert client.post(f"{page_of(nadia.id)}/anonymiser").status_code == 303
    db.session.expire_all()
    assert nadia.anonymised_at is not None
    assert user(YASMINE).anonymised_at is None  # the family still has a parent
    assert [c.user.first_name for c in family.children(karim)] == ["Yasmine", "Adam"]
    assert audit_lines("account.anonymised", nadia.id)[0].after == {"role": "PARENT", "children": 0}


def test_anonymise_a_coach_replaces_the_pseudonym(client, login):
    coach = factories.coach("Zénon")
    login(client, ADMIN)
    assert client.post(f"{page_of(coach.user_id)}/anonymiser").status_code == 303
    db.session.expire_all()
    assert coach.pseudonym == f"Coach supprimé {coach.id}"
    assert coach.description is None and coach.user.email is None


def second_admin() -> User:
    """An active admin beside the demo one (flushed)."""
    second = User(
        email="admin2@example.tn",
        role=Role.ADMIN,
        first_name="Hana",
        last_name="Saidi",
        activated_at=utcnow(),
    )
    db.session.add(second)
    db.session.flush()
    return second


def test_the_last_active_admin_is_kept():
    """Service level: the acting admin is not active any more (deactivated meanwhile)."""
    first, second = user(ADMIN), second_admin()
    first.is_active = False
    db.session.commit()  # a refused command rolls back what was not committed
    with pytest.raises(ServiceError, match="dernier administrateur actif"):
        erasure.anonymise(second.id, first)
    with pytest.raises(ServiceError, match="dernier administrateur actif"):
        identity.set_active(second.id, False, first)
    assert second.is_active and second.anonymised_at is None


def test_an_anonymised_account_cannot_be_reactivated_nor_edited(client, login):
    login(client, ADMIN)
    target = user(PARENT2)
    sami = factories.student(SAMI)
    assert client.post(f"{page_of(target.id)}/anonymiser").status_code == 303
    row = client.post(f"{page_of(target.id)}/activer", headers=HX)
    assert row.status_code == 422 and "ne peut pas être réactivé" in html(row)
    edit = client.post(page_of(target.id), data={"first_name": "Hichem", "last_name": "Gharbi"})
    assert edit.status_code == 409
    db.session.expire_all()
    assert target.first_name == "Compte" and not target.is_active
    assert sami.user.anonymised_at is not None  # the family's only parent: the child too


def test_non_admins_are_refused_and_unknown_ids_are_404(client, login):
    target = user(PARENT).id
    login(client, ASSISTANTE)
    for url in (NEW, page_of(target), f"{page_of(target)}/anonymiser"):
        assert client.get(url).status_code == 403
    assert client.post(f"{page_of(target)}/anonymiser").status_code == 403
    assert client.post(NEW, data={"role": "ADMIN", "email": "x@example.tn", **PERSON}).status_code == 403
    assert user(PARENT).anonymised_at is None
    client.post("/auth/signout")
    login(client, ADMIN)
    for url in (page_of(999999), f"{page_of(999999)}/anonymiser"):
        assert client.get(url).status_code == 404
        assert client.post(url, data={}).status_code == 404
    for action in ("email/annuler", "activation"):
        assert client.post(f"{page_of(999999)}/{action}").status_code == 404


# -- concurrency --------------------------------------------------------------------------------


def two_admins() -> tuple[int, int]:
    """The demo admin and a second, active admin (committed)."""
    second = second_admin()
    db.session.commit()
    return user(ADMIN).id, second.id


def live_admins() -> list[int]:
    db.session.expire_all()
    stmt = select(User.id).where(User.role == Role.ADMIN, User.is_active, User.anonymised_at.is_(None))
    return list(db.session.scalars(stmt))


def act(kind: str, actor_id: int, target_id: int) -> Any:
    actor = db.session.get_one(User, actor_id)
    if kind == "anonymise":
        return erasure.anonymise(target_id, actor)[1]
    return identity.set_active(target_id, False, actor).id


@pytest.mark.committed
@pytest.mark.parametrize("kind", ["anonymise", "deactivate"])
def test_two_admins_acting_on_each_other_at_once_leave_one(app, kind):
    first, second = two_admins()
    db.session.remove()
    pairs = [(first, second), (second, first)]
    results = at_once(app, lambda i: act(kind, *pairs[i]), n=2)
    assert len([r for r in results if isinstance(r, ServiceError)]) == 1
    assert len(live_admins()) == 1
    action = "account.anonymised" if kind == "anonymise" else "account.deactivated"
    assert len(audit_lines(action)) == 1


@pytest.mark.committed
def test_fifty_concurrent_attempts_leave_an_active_admin_and_one_line_per_change(app):
    first, second = two_admins()
    db.session.remove()
    pairs = [(first, second), (second, first)]

    def attempt(i: int) -> Any:
        return act("anonymise" if i % 4 < 2 else "deactivate", *pairs[i % 2])

    at_once(app, attempt)
    alive = live_admins()
    assert len(alive) == 1
    gone = second if alive == [first] else first
    assert len(audit_lines("account.anonymised", gone)) <= 1
    assert len(audit_lines("account.deactivated", gone)) <= 1
    assert len(audit_lines("account.anonymised", gone)) + len(audit_lines("account.deactivated", gone)) >= 1
    survivor = alive[0]
    assert audit_lines("account.anonymised", survivor) == []
    assert audit_lines("account.deactivated", survivor) == []
