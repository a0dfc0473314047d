"""Hypothesis throws arbitrary text at the public forms: never a 5xx, always a known answer."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import adam
from tests.people import HX, PARENT

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Any text, text with the characters databases and parsers choke on, e-mail-shaped strings.
anything = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from("\x00\r\n\t\\'\"<>%&;é\u202e\ufeff"), max_size=20),
)
emails = st.one_of(anything, st.emails().map(str), st.just(PARENT), st.sampled_from(["", " ", "@", "a@b"]))
OK = {200, 303, 400, 410, 422}


@FUZZ
@given(email=emails, password=anything, remember=st.sampled_from(["", "y", "on", "\x00"]))
def test_sign_in_form(client, email, password, remember):
    data = {"email": email, "password": password, "remember": remember}
    response = client.post("/auth/signin", data=data)
    assert response.status_code in OK
    client.delete_cookie("nexus_session")


@FUZZ
@given(email=emails)
def test_forgot_password_form(client, email):
    assert client.post("/auth/mot-de-passe-oublie", data={"email": email}).status_code in OK


@FUZZ
@given(
    name=anything,
    email=emails,
    phone=anything,
    topic=st.one_of(st.sampled_from(["autre", "paiement"]), anything),
    message=st.text(min_size=0, max_size=600),
    website=st.sampled_from(["", "x"]),
)
def test_contact_form(client, name, email, phone, topic, message, website):
    data = {
        "name": name,
        "email": email,
        "phone": phone,
        "topic": topic,
        "message": message,
        "website": website,
    }
    assert client.post("/contact", data=data).status_code in OK


@FUZZ
@given(email=emails)
def test_activation_link_form(client, login, email):
    if client.get_cookie("nexus_session") is None:
        login(client, PARENT)
    response = client.post(f"/dashboard/parent/enfants/{adam().id}/activation", data={"email": email})
    assert response.status_code in OK


@FUZZ
@given(token=anything, password=anything, confirm=anything)
def test_token_pages(client, token, password, confirm):
    for path in ("/auth/activate", "/auth/reset-password"):
        response = client.post(
            path, query_string={"token": token}, data={"password": password, "confirm": confirm}
        )
        assert response.status_code in OK
    renew = client.post("/auth/activate/nouveau-lien", data={"token": token})
    assert renew.status_code in OK


@FUZZ
@given(target=anything)
def test_next_parameter(client, target):
    response = client.get("/auth/signin", query_string={"next": target})
    assert response.status_code in OK


# -- the family sign-up (/inscription) -------------------------------------------------------------

steps = st.one_of(st.sampled_from(["1", "2", "3", "", "0", "9", "²", "٣"]), anything)
grades = st.one_of(st.sampled_from(["TERMINALE", "PREMIERE", "SECONDE", ""]), anything)


@FUZZ
@given(
    step=steps,
    first_name=anything,
    last_name=anything,
    email=emails,
    phone=st.one_of(st.sampled_from(["20 123 456", "+33 6 12 34 56 78", "+216 ²²"]), anything),
    child_first=anything,
    child_grade=grades,
    child_email=emails,
    password=anything,
    confirm=anything,
    accept_terms=st.sampled_from(["", "y", "\x00"]),
    website=st.sampled_from(["", "x"]),
    button=st.sampled_from(
        [
            {},
            {"enfant": "ajouter"},
            {"retirer": "0"},
            {"retirer": "²"},
            {"modifier": "1"},
            {"action": "retour"},
        ]
    ),
    htmx=st.booleans(),
)
def test_signup_form(
    client, step, first_name, last_name, email, phone, child_first, child_grade, child_email,
    password, confirm, accept_terms, website, button, htmx,
):  # fmt: skip
    from nexus.models.family import FamilySignup
    from tests.helpers import count

    data = {
        "step": step,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "phone": phone,
        "children-0-first_name": child_first,
        "children-0-last_name": "Trabelsi",
        "children-0-grade": child_grade,
        "children-0-email": child_email,
        "password": password,
        "confirm": confirm,
        "accept_terms": accept_terms,
        "website": website,
        **button,
    }
    before = count(FamilySignup)
    response = client.post("/inscription", data=data, headers=HX if htmx else {})
    assert response.status_code in OK | {204}
    if response.status_code == 422:  # refused: said next to a field, nothing kept
        assert 'role="alert"' in response.get_data(as_text=True)
        assert count(FamilySignup) == before


def test_signup_link_pages(client):
    """Any token on the confirmation and renewal routes, and a real one among them."""
    from nexus.extensions import db
    from nexus.models.common import Grade
    from nexus.services import signup
    from nexus.services.family import ChildDraft, ParentDraft
    from tests.helpers import NEW_PASSWORD, outbox_to, token_of

    draft = signup.SignupDraft(
        ParentDraft("Leïla", "Trabelsi", "fuzz.signup@example.tn", "+216 20 123 456"),
        [ChildDraft("Nour", "Trabelsi", Grade.TERMINALE)],
    )
    signup.register(draft, NEW_PASSWORD)
    db.session.commit()
    real = token_of(outbox_to("fuzz.signup@example.tn")[0].context["url"])

    @FUZZ
    @given(token=st.one_of(anything, st.just(real), st.just(real + "x"), st.just(real[:-1])))
    def run(token):
        for method in (client.get, client.post):
            response = method("/inscription/confirmer", query_string={"token": token})
            assert response.status_code in OK
        renew = client.post("/inscription/nouveau-lien", data={"token": token})
        assert renew.status_code in OK

    run()
