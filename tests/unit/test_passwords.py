"""Password rules (ASVS 6.2) and argon2id hashing (ASVS 11.4.2)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type

from nexus.services.identity import hash_password, password_problem, passwords

PASSPHRASE_64 = "les oliviers de Djerba murmurent au vent du soir, doucement 2026"


def test_seven_characters_are_refused():
    assert password_problem("abcdefg") == "Le mot de passe doit contenir au moins 8 caractères."


def test_eight_characters_without_digits_or_symbols_are_accepted():
    assert password_problem("abcdefgh") is None
    assert password_problem("purple lanterns drift north") is None


def test_a_64_character_passphrase_is_accepted():
    assert len(PASSPHRASE_64) == 64
    assert password_problem(PASSPHRASE_64) is None


def test_too_long_is_refused():
    assert password_problem("x" * 129) == "Le mot de passe ne peut pas dépasser 128 caractères."
    assert password_problem("x" * 128) is None


@pytest.mark.parametrize("common", ["password123", "PASSWORD123", "azerty123", "12345678", "motdepasse"])
def test_common_passwords_are_refused(common):
    assert password_problem(common) == "Ce mot de passe est trop courant : choisissez-en un autre."


def test_the_email_address_is_not_a_password():
    problem = password_problem("Parent@Nexus-Reussite.tn", "parent@nexus-reussite.tn")
    assert problem == "Le mot de passe ne doit pas être votre adresse e-mail."


def test_hashes_are_argon2id_and_salted():
    first, second = hash_password(PASSPHRASE_64), hash_password(PASSPHRASE_64)
    assert first.startswith("$argon2id$v=19$")
    assert first != second
    assert passwords.hasher.verify(first, PASSPHRASE_64)
    assert not first.startswith("scrypt:")


def test_production_hasher_uses_rfc_9106_low_memory_settings(production_hasher: PasswordHasher):
    # The test session swaps in a cheaper hasher (tests/conftest.py); production keeps these.
    assert production_hasher.type is Type.ID
    assert production_hasher.memory_cost == 65536
    assert production_hasher.time_cost == 3
    assert production_hasher.parallelism == 4
    assert production_hasher.hash("x").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
