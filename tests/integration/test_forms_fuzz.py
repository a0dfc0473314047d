"""Hypothesis throws arbitrary text at the public forms: never a 5xx, always a known answer."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import PARENT, adam

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
