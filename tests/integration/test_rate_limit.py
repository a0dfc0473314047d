"""Login throttling limits the guesser, not the owner: 10 wrong tries per account and address,
20 per address, and a slower 100 an hour per account, each within its window, then a 429."""

from __future__ import annotations

import pytest

from tests.helpers import html
from tests.people import ADMIN, ASSISTANTE, DEMO_PASSWORD, PARENT

pytestmark = pytest.mark.ratelimited


WRONG = "mauvais mot de passe"


def attempt(client, email: str, password: str = WRONG, ip: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/auth/signin",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_eleventh_wrong_try_on_one_account_is_refused(client):
    for _ in range(10):
        assert attempt(client, PARENT).status_code == 422
    refused = attempt(client, PARENT)
    assert refused.status_code == 429
    assert "Trop de tentatives" in html(refused)
    assert "Patientez quelques minutes" in html(refused)
    assert int(refused.headers["Retry-After"]) > 0
    # Even the right password waits: the account is throttled, not just wrong guesses.
    assert attempt(client, PARENT, DEMO_PASSWORD).status_code == 429


@pytest.mark.parametrize("owner", [PARENT, ADMIN])
def test_the_owner_signs_in_from_elsewhere_while_the_guesser_is_refused(client, owner):
    for _ in range(10):
        assert attempt(client, owner, ip="10.6.6.6").status_code == 422
    assert attempt(client, owner, ip="10.6.6.6").status_code == 429
    assert attempt(client, owner, DEMO_PASSWORD, ip="10.6.6.6").status_code == 429
    # The owner, from their own address, is not locked out by someone else's guesses.
    assert attempt(client, owner, DEMO_PASSWORD, ip="10.0.9.9").status_code == 303


def test_one_address_is_limited_across_accounts(client):
    for i in range(20):
        assert attempt(client, f"inconnu{i}@example.tn", ip="10.0.2.1").status_code == 422
    assert attempt(client, "encore@example.tn", ip="10.0.2.1").status_code == 429
    # Another address may still try.
    assert attempt(client, "encore@example.tn", ip="10.0.2.2").status_code == 422


def test_a_guess_spread_over_many_addresses_meets_the_account_bound(client):
    for i in range(100):
        assert attempt(client, PARENT, ip=f"10.1.{i // 200}.{i % 200}").status_code == 422
    assert attempt(client, PARENT, ip="10.2.0.1").status_code == 429
    # Another account is not affected.
    assert attempt(client, ASSISTANTE, ip="10.2.0.1").status_code == 422


def test_successful_sign_ins_do_not_count(client):
    for _ in range(9):
        assert attempt(client, PARENT).status_code == 422
    for _ in range(3):
        assert attempt(client, PARENT, DEMO_PASSWORD).status_code == 303
        client.post("/auth/signout", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert attempt(client, PARENT).status_code == 422  # the 10th wrong try
    assert attempt(client, PARENT).status_code == 429  # the 11th


def test_reset_requests_are_limited_per_account(client):
    for _ in range(3):
        response = client.post("/auth/mot-de-passe-oublie", data={"email": PARENT})
        assert response.status_code == 200
    refused = client.post("/auth/mot-de-passe-oublie", data={"email": PARENT})
    assert refused.status_code == 429
    assert "Trop de tentatives" in html(refused)


def forgot(client, email: str, ip: str):  # type: ignore[no-untyped-def]
    return client.post("/auth/mot-de-passe-oublie", data={"email": email}, environ_base={"REMOTE_ADDR": ip})


def test_the_owner_still_gets_a_reset_link_after_someone_else_asked(client):
    for _ in range(3):
        assert forgot(client, PARENT, "10.6.6.6").status_code == 200
    assert forgot(client, PARENT, "10.6.6.6").status_code == 429
    assert forgot(client, PARENT, "10.0.9.9").status_code == 200


def test_reset_requests_for_one_account_have_a_larger_bound(client):
    for i in range(10):
        assert forgot(client, PARENT, f"10.3.0.{i}").status_code == 200
    assert forgot(client, PARENT, "10.3.1.1").status_code == 429  # at most 10 e-mails an hour
