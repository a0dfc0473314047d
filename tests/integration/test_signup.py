"""/inscription: a family signs up without JavaScript, confirms its address from the e-mailed link,
and only then has an account; no enumeration, expiry and renewal, 50 concurrent confirmations,
the sign-up from a bilan request, and the parent's next step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select

from nexus.extensions import db
from nexus.jobs.schedule import JOBS, PERIODIC
from nexus.models.audit import AuditLog
from nexus.models.billing import Subscription, SubscriptionStatus
from nexus.models.catalog import OfferCode
from nexus.models.common import Grade, Role
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.family import FamilySignup, ParentProfile, Student
from nexus.models.identity import User
from nexus.models.notifications import OutboxEmail
from nexus.services import family, identity, signup, utcnow
from nexus.services.family import ChildDraft, ParentDraft
from tests.conftest import CLOCK_START, travel
from tests.helpers import NEW_PASSWORD, at_once, html, link_in, outbox_to, refusals, token_of
from tests.people import HX, PARENT
from tests.servers import body_text

EMAIL = "leila.trabelsi@example.tn"
CHILD_EMAIL = "yassine.trabelsi@example.tn"
STEP1 = {
    "first_name": "Leïla",
    "last_name": "Trabelsi",
    "email": "Leila.Trabelsi@example.tn",
    "phone": "20 123 456",
}
NOUR = {
    "children-0-first_name": "Nour",
    "children-0-last_name": "Trabelsi",
    "children-0-grade": "TERMINALE",
    "children-0-email": "",
}
YASSINE = {
    "children-1-first_name": "Yassine",
    "children-1-last_name": "Trabelsi",
    "children-1-grade": "SECONDE",
    "children-1-email": CHILD_EMAIL,
}
STEP3 = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "accept_terms": "y"}
ALL = {**STEP1, **NOUR, **YASSINE, **STEP3}


def post(client: Any, step: int, data: dict[str, Any], *, hx: bool = False, **extra: str) -> Any:
    return client.post("/inscription", data={**data, "step": str(step), **extra}, headers=HX if hx else {})


def count(model: Any, *where: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def sign_up(client: Any, **changes: str) -> Any:
    """The whole form sent from its last step (the earlier steps as hidden fields)."""
    response = post(client, 3, {**ALL, **changes})
    assert response.status_code == 303, html(response)
    assert response.headers["Location"] == "/inscription/envoyee"
    return response


def confirmation_link(run_jobs: Any, smtp: Any, email: str = EMAIL) -> str:
    run_jobs()
    return link_in(smtp.wait_for(email), "/inscription/confirmer")


def parent_of(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


# -- the form, step by step, without JavaScript ----------------------------------------------------


def test_full_sign_up_without_javascript(app, client, run_jobs, smtp):
    page = client.get("/inscription")
    assert page.status_code == 200
    assert "Étape 1 sur 3" in html(page) and 'name="website"' in html(page)

    step2 = post(client, 1, STEP1)
    assert step2.status_code == 200
    text = html(step2)
    assert "Étape 2 sur 3" in text and "Vos enfants" in text
    assert '<input type="hidden" name="email" value="Leila.Trabelsi@example.tn">' in text
    assert "Ajouter un autre enfant" in text

    added = post(client, 2, {**STEP1, **NOUR}, enfant="ajouter")
    text = html(added)
    assert added.status_code == 200
    assert "Enfant 2" in text and 'value="Nour"' in text  # the first child is kept
    assert 'name="children-1-first_name"' in text

    step3 = post(client, 2, {**STEP1, **NOUR, **YASSINE})
    text = html(step3)
    assert step3.status_code == 200
    assert "Étape 3 sur 3" in text
    assert "Nour Trabelsi · Terminale" in text and f"Yassine Trabelsi · Seconde · {CHILD_EMAIL}" in text
    assert '<input type="hidden" name="children-1-email" value="yassine.trabelsi@example.tn">' in text
    assert "Modifier" in text and "/mentions-legales" in text

    users_before = count(User)
    sent = sign_up(client)
    page = html(client.get(sent.headers["Location"]))
    assert "Vérifiez votre boîte e-mail" in page and "72 h" in page and EMAIL in page.lower()

    row = db.session.scalar(select(FamilySignup).where(FamilySignup.email == EMAIL))
    assert row is not None and row.confirmed_at is None
    assert len(row.token_hash) == 64 and row.expires_at == row.created_at + timedelta(hours=72)
    assert row.phone == "+216 20 123 456"
    assert [c["first_name"] for c in row.children] == ["Nour", "Yassine"]
    assert NEW_PASSWORD not in str(row.children) and row.password_hash.startswith("$argon2")
    assert count(User) == users_before  # no account before the link is used

    # No sign-in before the address is confirmed.
    refused = client.post("/auth/signin", data={"email": EMAIL, "password": NEW_PASSWORD})
    assert refused.status_code == 422

    link = confirmation_link(run_jobs, smtp)
    assert token_of(link) not in row.token_hash  # only the hash is stored
    mail = smtp.wait_for(EMAIL)
    assert "Confirmez votre adresse" in mail["Subject"] and "72 heures" in body_text(mail)

    shown = client.get(link)  # a mail scanner or the parent opening the link: nothing is used
    assert shown.status_code == 200
    assert "Confirmer mon adresse" in html(shown) and "Nour Trabelsi (Terminale)" in html(shown)
    db.session.expire_all()
    assert row.confirmed_at is None and parent_of(EMAIL) is None

    done = client.post(link)
    assert done.status_code == 303
    assert done.headers["Location"].startswith("/auth/signin?email=leila.trabelsi")
    signin = html(client.get(done.headers["Location"]))
    assert "Adresse confirmée, votre espace est prêt. Connectez-vous." in signin
    assert 'value="leila.trabelsi@example.tn"' in signin  # the address is filled in

    parent = parent_of(EMAIL)
    assert parent is not None and parent.role is Role.PARENT and parent.activated_at is not None
    assert parent.phone == "+216 20 123 456"
    kids = family.children(parent)
    assert [(k.user.first_name, k.grade) for k in kids] == [
        ("Nour", Grade.TERMINALE),
        ("Yassine", Grade.SECONDE),
    ]
    db.session.expire_all()
    assert row.confirmed_at is not None and row.user_id == parent.id
    assert row.password_hash == ""  # the account holds the hash; the sign-up keeps no copy

    run_jobs()  # the child with an address gets its activation link, as add_child does
    activation = smtp.wait_for(CHILD_EMAIL)
    assert link_in(activation, "/auth/activate")

    signed_in = client.post("/auth/signin", data={"email": EMAIL, "password": NEW_PASSWORD})
    assert signed_in.status_code == 303
    dashboard = html(client.get("/dashboard/parent"))
    assert "Prochaine étape" in dashboard and "Choisissez une offre pour Nour" in dashboard


def test_with_htmx_only_the_form_is_swapped(client):
    response = post(client, 1, STEP1, hx=True)
    text = html(response)
    assert response.status_code == 200
    assert text.lstrip().startswith('<div id="signup-form"') and "<html" not in text
    final = post(client, 3, ALL, hx=True)
    assert final.status_code == 204
    assert final.headers["HX-Redirect"] == "/inscription/envoyee"
    assert count(FamilySignup) == 1


def test_errors_are_shown_next_to_the_field_and_keep_the_answers(client):
    bad_phone = post(client, 1, {**STEP1, "phone": "12"})
    text = html(bad_phone)
    assert bad_phone.status_code == 422
    assert "Numéro de téléphone invalide" in text
    assert 'value="Leïla"' in text and 'value="Leila.Trabelsi@example.tn"' in text

    no_grade = post(client, 2, {**STEP1, **NOUR, "children-0-grade": ""})
    text = html(no_grade)
    assert no_grade.status_code == 422
    assert "Choisissez la classe." in text and 'value="Nour"' in text
    assert '<input type="hidden" name="phone" value="20 123 456">' in text

    no_child = post(client, 2, STEP1)
    assert no_child.status_code == 422 and "Indiquez au moins un enfant." in html(no_child)

    mismatch = post(client, 3, {**ALL, "confirm": "autre chose encore"})
    text = html(mismatch)
    assert mismatch.status_code == 422
    assert "Les deux mots de passe ne correspondent pas." in text
    assert "Yassine Trabelsi" in text  # the recap is still there
    assert NEW_PASSWORD not in text  # a password is never written back into the page

    common = post(client, 3, {**ALL, "password": "azerty123", "confirm": "azerty123"})
    assert common.status_code == 422 and "trop courant" in html(common)

    no_terms = post(client, 3, {k: v for k, v in ALL.items() if k != "accept_terms"})
    assert no_terms.status_code == 422 and "Cochez cette case pour créer votre espace." in html(no_terms)

    tampered = post(client, 3, {**ALL, "children-0-grade": "MATERNELLE"})
    assert tampered.status_code == 422 and "Étape 2 sur 3" in html(tampered)
    assert count(FamilySignup) == 0


def test_back_modify_and_remove_never_carry_the_password(client):
    back = post(client, 3, ALL, modifier="1")
    text = html(back)
    assert back.status_code == 200 and "Étape 1 sur 3" in text
    assert '<input type="hidden" name="children-1-first_name" value="Yassine">' in text
    assert 'name="password"' not in text and NEW_PASSWORD not in text

    retour = post(client, 3, ALL, action="retour")
    assert "Étape 2 sur 3" in html(retour) and 'value="Yassine"' in html(retour)

    removed = post(client, 2, {**STEP1, **NOUR, **YASSINE}, retirer="0")
    text = html(removed)
    assert "Enfant 2" not in text and 'value="Yassine"' in text and 'value="Nour"' not in text


def test_a_filled_honeypot_gets_the_same_answer_and_nothing_is_kept(client):
    response = post(client, 3, {**ALL, "website": "http://spam.example"})
    assert response.status_code == 303 and response.headers["Location"] == "/inscription/envoyee"
    assert count(FamilySignup) == 0 and count(OutboxEmail) == 0


@pytest.mark.parametrize("number", ["²", "٣", "9" * 5000])
def test_odd_child_numbers_are_ignored_without_error(client, number):
    response = post(client, 2, {**STEP1, f"children-{number}-first_name": "Nour"})
    assert response.status_code == 422  # no child group was read: the step asks for one
    assert "Indiquez au moins un enfant." in html(response)


@pytest.mark.ratelimited
def test_sign_ups_are_limited_per_address_but_not_the_steps(client):
    for i in range(5):
        sign_up(client, email=f"famille{i}@example.tn")
    refused = post(client, 3, {**ALL, "email": "sixieme@example.tn"}, hx=True)
    text = html(refused)
    assert refused.status_code == 429
    assert "Réessayez dans une heure" in text
    assert '<input type="hidden" name="email" value="sixieme@example.tn">' in text  # nothing lost
    assert post(client, 1, STEP1).status_code == 200  # moving between steps is not counted
    assert count(FamilySignup) == 5


# -- no enumeration ------------------------------------------------------------------------------


def known_parent(email: str = "deja.inscrite@example.tn") -> User:
    parent = family.open_family(
        ParentDraft("Salma", "Gharbi", email), [], actor=None, password_hash=identity.hash_password("x" * 12)
    )
    db.session.commit()
    return parent


def test_a_known_address_gets_the_same_answer_and_a_different_e_mail(client, run_jobs, smtp):
    known = known_parent()
    answers = {}
    for address in ("nouvelle.famille@example.tn", known.email):
        response = post(client, 3, {**ALL, "email": address})
        page = client.get(response.headers["Location"])
        answers[address] = (
            response.status_code,
            response.headers["Location"],
            html(response),
            page.status_code,
            html(page).replace(address, "ADRESSE"),
        )
    assert answers["nouvelle.famille@example.tn"] == answers[known.email]

    assert count(FamilySignup, FamilySignup.email == known.email) == 0
    assert count(FamilySignup, FamilySignup.email == "nouvelle.famille@example.tn") == 1
    run_jobs()
    mail = smtp.wait_for(known.email)
    text = body_text(mail)
    assert "déjà un espace Nexus Réussite" in mail["Subject"]
    assert "http://localhost/auth/signin" in text and "http://localhost/auth/mot-de-passe-oublie" in text
    assert "/inscription/confirmer" not in text
    assert "/inscription/confirmer" in body_text(smtp.wait_for("nouvelle.famille@example.tn"))

    sign_up(client, email=known.email)  # again the same day: one e-mail a day at most
    assert len(outbox_to(known.email)) == 1


def test_a_second_identical_submit_re_uses_the_pending_sign_up(client):
    sign_up(client)
    sign_up(client)
    assert count(FamilySignup) == 1
    assert len(outbox_to(EMAIL)) == 1
    # Another password is another sign-up (never someone's password replacing the first).
    sign_up(client, password="une autre phrase bien longue", confirm="une autre phrase bien longue")
    assert count(FamilySignup) == 2 and len(outbox_to(EMAIL)) == 2


def test_at_most_five_pending_sign_ups_per_address_a_day(client):
    for i in range(7):
        sign_up(client, first_name=f"Leïla{'a' * i}")
    assert count(FamilySignup, FamilySignup.email == EMAIL) == 5
    assert len(outbox_to(EMAIL)) == 5


# -- the link ------------------------------------------------------------------------------------


def test_confirming_twice_opens_one_family(client, run_jobs, smtp):
    sign_up(client)
    link = confirmation_link(run_jobs, smtp)
    assert client.post(link).status_code == 303
    users = count(User)
    again = client.post(link)
    assert again.status_code == 303 and again.headers["Location"].startswith("/auth/signin")
    assert count(User) == users
    assert count(User, User.email == EMAIL) == 1
    used = client.get(link)
    assert used.status_code == 200 and "déjà confirmée" in html(used)


def test_unknown_links_get_a_clear_page(client):
    for token in ("", "pas-un-jeton", "x" * 500):
        response = client.get("/inscription/confirmer", query_string={"token": token})
        assert response.status_code == 410 and "Lien non valable" in html(response)
        assert client.post("/inscription/confirmer", query_string={"token": token}).status_code == 410


def test_an_expired_link_can_be_renewed_to_the_same_address(client, run_jobs, smtp):
    sign_up(client)
    link = confirmation_link(run_jobs, smtp)
    smtp.clear()
    with travel(CLOCK_START + timedelta(hours=72, minutes=5)):
        page = client.get(link)
        assert page.status_code == 410
        assert "Ce lien a expiré" in html(page) and "Recevoir un nouveau lien" in html(page)
        refused = client.post(link)
        assert refused.status_code == 410 and parent_of(EMAIL) is None

        renewed = client.post("/inscription/nouveau-lien", data={"token": token_of(link)})
        assert renewed.status_code == 200 and "nouveau lien" in html(renewed)
        fresh = confirmation_link(run_jobs, smtp)
        assert fresh != link
        assert client.get(link).status_code == 410  # the old link is gone
        assert client.post(fresh).status_code == 303
    assert parent_of(EMAIL) is not None
    assert count(FamilySignup) == 1


def test_renewals_are_counted(client, run_jobs, smtp):
    sign_up(client)
    token = token_of(confirmation_link(run_jobs, smtp))
    moment = CLOCK_START
    for _ in range(signup.MAX_RENEWALS + 1):
        moment += timedelta(hours=73)
        with travel(moment):
            client.post("/inscription/nouveau-lien", data={"token": token})
            run_jobs()
            token = token_of(link_in(smtp.wait_for(EMAIL), "/inscription/confirmer"))
    row = db.session.scalar(select(FamilySignup))
    assert row.renewals == signup.MAX_RENEWALS
    assert len(outbox_to(EMAIL)) == 1 + signup.MAX_RENEWALS
    with travel(moment + timedelta(hours=73)):
        page = html(client.get("/inscription/confirmer", query_string={"token": token}))
        assert "Recevoir un nouveau lien" not in page and "Recommencez l'inscription" in page


def test_an_address_taken_meanwhile_gets_a_clear_page(client, run_jobs, smtp):
    sign_up(client)
    link = confirmation_link(run_jobs, smtp)
    known_parent(EMAIL)  # e.g. staff opened the family from its bilan request meanwhile
    response = client.post(link)
    text = html(response)
    assert response.status_code == 409
    assert "déjà un espace" in text and "/auth/mot-de-passe-oublie" in text
    assert count(User, User.email == EMAIL) == 1


@pytest.mark.committed
def test_fifty_concurrent_confirmations_open_one_family(app):
    draft = signup.SignupDraft(
        ParentDraft("Leïla", "Trabelsi", EMAIL, "+216 20 123 456"),
        [ChildDraft("Nour", "Trabelsi", Grade.TERMINALE), ChildDraft("Yassine", "Trabelsi", Grade.SECONDE)],
    )
    signup.register(draft, NEW_PASSWORD)
    db.session.commit()
    raw = token_of(outbox_to(EMAIL)[0].context["url"])
    users_before = count(User)

    results = at_once(app, lambda i: signup.confirm(raw).user_id)

    assert refusals(results) == []
    db.session.expire_all()
    parent = parent_of(EMAIL)
    assert parent is not None and set(results) == {parent.id}
    assert count(User) == users_before + 3  # one parent, two children
    assert count(ParentProfile, ParentProfile.user_id == parent.id) == 1
    assert count(Student, Student.parent_id.in_(family.family_ids(parent.id))) == 2


@pytest.mark.committed
def test_fifty_identical_submits_at_once_keep_one_sign_up_and_one_e_mail(app):
    draft = signup.SignupDraft(
        ParentDraft("Leïla", "Trabelsi", EMAIL, "+216 20 123 456"),
        [ChildDraft("Nour", "Trabelsi", Grade.TERMINALE)],
    )

    results = at_once(app, lambda i: signup.register(draft, NEW_PASSWORD))

    assert refusals(results) == []
    assert count(FamilySignup, FamilySignup.email == EMAIL) == 1
    assert len(outbox_to(EMAIL)) == 1


def test_unconfirmed_sign_ups_are_forgotten_a_month_after_expiry(client, run_jobs, smtp):
    sign_up(client)
    sign_up(client, email="confirmee@example.tn")
    client.post(confirmation_link(run_jobs, smtp, "confirmee@example.tn"))
    with travel(CLOCK_START + timedelta(hours=72) + signup.STALE_AFTER - timedelta(minutes=5)):
        assert signup.purge_stale() == 0  # still renewable
    with travel(CLOCK_START + timedelta(hours=72) + signup.STALE_AFTER + timedelta(minutes=5)):
        assert JOBS["purge_stale_signups"]() == "1 removed"  # the scheduler runs it daily
    assert {f.__name__: s for f, s in PERIODIC}["purge_stale_signups"] <= 86400
    assert [r.email for r in db.session.scalars(select(FamilySignup))] == ["confirmee@example.tn"]


# -- from the bilan gratuit -----------------------------------------------------------------------

BILAN = {
    "parent_first_name": "Leïla",
    "parent_last_name": "Trabelsi",
    "parent_email": EMAIL,
    "parent_phone": "+216 20 123 456",
    "student_first_name": "Nour",
    "student_last_name": "Trabelsi",
    "grade": "PREMIERE",
    "school": "",
    "subjects": ["MATHEMATIQUES"],
    "current_level": "En difficulté",
    "objectives": "Viser 14 au bac de mathématiques.",
    "modality": "HYBRID",
    "accept_terms": "y",
}


def test_the_bilan_leads_to_a_prefilled_sign_up_and_is_linked(client, run_jobs, smtp):
    assert client.post("/bilan-gratuit", data={**BILAN, "step": "4"}).status_code == 303
    bilan = db.session.scalar(select(BilanRequest))
    confirmation = html(client.get("/bilan-gratuit/confirmation"))
    assert "Créer mon espace famille maintenant" in confirmation
    assert 'href="/inscription?depuis=bilan"' in confirmation
    assert "nous ouvrons l'espace de votre famille et vous envoyons vos accès" not in confirmation

    page = client.get("/inscription?depuis=bilan")
    text = html(page)
    assert page.status_code == 200
    assert "Étape 3 sur 3" in text  # only the password is left to type
    assert "Nous avons repris les réponses de votre demande de bilan" in text
    assert "Nour Trabelsi · Première" in text and EMAIL in text
    hidden = {
        "first_name": "Leïla",
        "email": EMAIL,
        "phone": "+216 20 123 456",
        "children-0-first_name": "Nour",
        "children-0-grade": "PREMIERE",
    }
    for name, value in hidden.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in text

    carried = dict.fromkeys(("first_name", "last_name", "email", "phone"))
    form = {name: value for name, value in _hidden_fields(text) if name not in ("step", "csrf_token")}
    assert set(carried) <= set(form)
    assert post(client, 3, {**form, **STEP3}).status_code == 303
    row = db.session.scalar(select(FamilySignup))
    assert row.bilan_request_id == bilan.id

    client.post(confirmation_link(run_jobs, smtp))
    db.session.expire_all()
    parent = parent_of(EMAIL)
    assert parent is not None
    assert bilan.parent_user_id == parent.id and bilan.status is BilanStatus.CONVERTED
    line = db.session.scalar(select(AuditLog).where(AuditLog.action == "bilan.linked_by_signup"))
    assert line is not None and line.after["status"] == "CONVERTED"


def _hidden_fields(text: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', text)


def test_a_posted_bilan_id_is_ignored(client, run_jobs, smtp):
    other = BilanRequest(
        parent_first_name="Autre",
        parent_last_name="Famille",
        parent_email="autre@example.tn",
        parent_phone="+216 22 333 444",
        student_first_name="Adam",
        student_last_name="Famille",
        grade=Grade.SECONDE,
        subjects=["NSI"],
        status=BilanStatus.RECEIVED,
    )
    db.session.add(other)
    db.session.commit()
    sign_up(client, bilan_request_id=str(other.id), depuis="bilan")
    assert db.session.scalar(select(FamilySignup)).bilan_request_id is None


def test_the_bilan_e_mail_says_what_the_product_does(client, run_jobs, smtp):
    client.post("/bilan-gratuit", data={**BILAN, "step": "4"})
    run_jobs()
    text = body_text(smtp.wait_for(EMAIL))
    assert "nous ouvrons l'espace de votre famille et vous envoyons vos accès" not in text
    assert "http://localhost/inscription" in text


# -- the parent's next step -----------------------------------------------------------------------


def test_the_next_step_follows_the_family_state(client, login, run_jobs, smtp):
    lonely = family.open_family(
        ParentDraft("Sana", "Ayari", "sana.ayari@example.tn"),
        [],
        actor=None,
        password_hash=identity.hash_password(NEW_PASSWORD),
    )
    db.session.commit()
    login(client, lonely.email, NEW_PASSWORD)
    page = html(client.get("/dashboard/parent"))
    assert "Prochaine étape" in page and "Ajoutez votre enfant" in page
    assert 'href="/dashboard/parent/enfants#ajouter"' in page

    kid = family.add_child(lonely, "Rayan", "Ayari", Grade.SECONDE, None, None)
    db.session.commit()
    page = html(client.get("/dashboard/parent"))
    assert "Choisissez une offre pour Rayan" in page
    assert f'href="/dashboard/parent/abonnements#enfant-{kid.id}"' in page

    now = utcnow()
    db.session.add(
        Subscription(
            student_id=kid.id,
            plan=OfferCode.HYBRIDE,
            status=SubscriptionStatus.ACTIVE,
            monthly_price_millimes=450_000,
            credits_per_month=4,
            aria_subjects=["MATHEMATIQUES"],
            current_period_start=now,
            current_period_end=now + relativedelta(months=1),
            started_at=now,
        )
    )
    db.session.commit()
    page = html(client.get("/dashboard/parent"))
    assert "Envoyez son lien à Rayan" in page and f'href="/dashboard/parent#enfant-{kid.id}"' in page

    sent = client.post(f"/dashboard/parent/enfants/{kid.id}/activation", data={"email": "rayan@example.tn"})
    assert sent.status_code == 303
    page = html(client.get("/dashboard/parent"))
    # The link is on its way: the next step moves on (next_steps.for_user: the test, booking …).
    assert "Envoyez son lien à Rayan" not in page and 'data-step="send_activation"' not in page


def test_the_sign_in_page_points_to_the_sign_up(client):
    page = html(client.get("/auth/signin"))
    assert "Pas encore de compte ?" in page and 'href="/inscription"' in page
    assert "Confirmez d'abord votre adresse avec le lien reçu par e-mail." in page
    assert "Créer mon espace" in html(client.get("/offres"))


def test_a_signed_in_user_is_sent_to_the_dashboard(client, login):
    login(client, PARENT)
    assert client.get("/inscription").headers["Location"] == "/dashboard"
