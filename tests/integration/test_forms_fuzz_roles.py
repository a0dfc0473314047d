"""Every POST form, as every role the access policy lets use it: never a 5xx, a refusal writes nothing.

TARGETS lists each POST route with its fields, the kind of each field and a valid value. Two tests
post them:

- the sweep sends every value of a field's kind that must be refused (a non-finite number, an
  exotic digit, an impossible date or time, a line break or control character, an over-long
  text…) alone, the other fields valid, then the valid form as a control that it is accepted;
- Hypothesis mixes them: one field hostile, the others valid, odd or hostile too, with and
  without htmx.

After a refusal every table (a checksum per table) and every file under the instance folder must
be as before, and a 409/422 answer must say why. Routes without typed input (a toggle, "mark as
read") get junk extra fields and must only never answer a 5xx. The query strings of every page
are fuzzed too. Tests fail when a POST route is neither fuzzed nor EXCLUDED with a reason, or is
not fuzzed as exactly the roles the policy allows. The clock is frozen on a fixed date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexus import fr, policy
from nexus.extensions import db
from nexus.models.aria import AnswerMode, AriaConversation
from nexus.models.common import Role
from nexus.models.notifications import Notification
from nexus.services import utcnow
from tests import factories
from tests.helpers import (
    ADMIN,
    ASSISTANTE,
    COACH,
    PARENT,
    PARENT2,
    SAMI,
    adam,
    changed_tables,
    fingerprint,
    stored_files,
    user,
    write_counts,
)
from tests.integration.aria_support import entitle_aria, question_and_answer

# -- hostile and odd values, per kind of field ------------------------------------------------------

NON_FINITE = ["1e309", "-1e309", "NaN", "nan", "-NaN", "Infinity", "-inf", "inf", "sNaN", "-sNaN", "1e-400"]
# Digits Python's int() refuses although str.isdigit() says yes, and huge digit strings.
EXOTIC_REFUSED = ["²", "⑤", "½", "1²", "²²", "Ⅻ", "9" * 30, "9" * 5000, "1" + "0" * 400]
# Decimal digits of other scripts: int() reads them; a form may accept or refuse them, never fail.
EXOTIC_ODD = ["٣", "１", "۵", "१", "𝟓", "٣٠"]
NUMBER_REFUSED = NON_FINITE + EXOTIC_REFUSED + ["-1", "-0.5", "0x10", "1,2,3", "--1", "١e٣٠٩", " "]
DATE_REFUSED = ["9999-12-31", "0001-01-01", "2026-02-30", "99999-01-01", "2026-13-01", "NaN", "1e309"]
DATE_ODD = ["", "2026-2-3", "03/03/2030", "２０３０-03-04", "2030-03-04T14:00", " 2030-03-04 "]
TIME_REFUSED = ["25:00", "24:00", "14:60", "²:00", "-1:00", "NaN", "99999:00", "14:00:00:00"]
TIME_ODD = ["14:07", "14:00", "9:00", "１４:００", "", "14h00"]
DATETIME_REFUSED = [
    "9999-12-31T14:00",
    "0001-01-01T14:00",
    "2026-02-30T14:00",
    "99999-01-01T14:00",
    "2030-03-04T25:00",
    "NaN",
    "",
]
LINE_BREAKS = ["Nadia\r\nBcc: x@example.tn", "a\nb", "a\rb", "a\u2028b", "a\u2029b", "a\x85b"]
INVISIBLE = ["\x1b[31mrouge", "a\x07b", "\u202eNadia", "a\x7fb", "a\x0bb", "a\x0cb"]
LONG = ["N" * 5000, "é" * 20_000]
EMAIL_REFUSED = [
    "pas-un-email",
    "a@b",
    "@example.tn",
    "x" * 300 + "@example.tn",
    "a@example.tn\r\nBcc: b@c.tn",
]
ODD_TEXT = ["", " ", "<script>alert(1)</script>", "' OR 1=1 --", "%s%n", "{{7*7}}", "é\ufeff", "Ω" * 50]
ANY_TEXT = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=60))


@dataclass(frozen=True)
class Kind:
    """A kind of field: values that must be refused, and values any answer may follow."""

    refused: tuple[str, ...]
    odd: tuple[str, ...] = ()


def kind(refused: list[str], odd: list[str] | None = None) -> Kind:
    return Kind(tuple(refused), tuple(odd or []))


NUMBER = kind(NUMBER_REFUSED, [*EXOTIC_ODD, "", "0", "1.5", "1,25", "007"])
ID = kind(["0", "-1", "9" * 25, "1e309", "NaN", "²", "⑤", "1.5", "x"], [*EXOTIC_ODD, ""])
DATE = kind(DATE_REFUSED, DATE_ODD)
REQUIRED_DATE = kind([*DATE_REFUSED, "", "   "], DATE_ODD)
TIME = kind(TIME_REFUSED, TIME_ODD)
DATETIME = kind([*DATETIME_REFUSED, "2030-03-04T14:07"], ["2030-03-04 14:00", "２０３０-03-04T14:00"])
LINE = kind(LINE_BREAKS + INVISIBLE, ODD_TEXT)  # one line, any length the form allows
NAME = kind(LINE_BREAKS + INVISIBLE + LONG, ODD_TEXT)  # a name: one line, bounded
TEXT = kind(INVISIBLE + LONG, [*ODD_TEXT, "ligne 1\r\nligne 2", "\t indenté"])
EMAIL = kind(EMAIL_REFUSED + INVISIBLE, ["", "nouveau@example.tn", "NOUVEAU@EXAMPLE.TN", "é@exemple.tn"])
PHONE = kind(["+216 ²²", "1" * 200, "\x1b22", "+216\r\n22"], ["", "+216 22 333 444", "٢٢٣٣٣٤٤٤"])
# A choice from a list: anything outside it is refused.
CHOICE = kind(["X", "1e309", "\x1b", "²", "é" * 300, "__class__", "NONE"], [""])
FREE = kind([], ODD_TEXT)  # a field no value of which must be refused (redirect target, flag)
# A matricule fiscal (issue 13): 7 digits, a key letter, TVA code, category, establishment.
TAX_ID = kind(
    ["12345", "1234567A/Z/M/000", "١٢٣٤٥٦٧A/A/M/000", "1234567A/A/M/0000", *LINE_BREAKS, *INVISIBLE],
    ["", "1234567aam000", " 1234567A / A / M / 000 "],
)


@dataclass(frozen=True)
class Target:
    """One POST form: who may use it, its URL, its fields with their kind and a valid value."""

    roles: str  # the roles that may use the form, space-separated (each is fuzzed)
    endpoint: str
    url: Callable[[dict[str, Any]], str]
    fields: dict[str, tuple[Kind, str | Callable[[dict[str, Any]], str]]] = field(default_factory=dict)
    examples: int = 12
    accepts_valid: bool = True  # the form with its valid values is accepted (a control)


def fixed(url: str) -> Callable[[dict[str, Any]], str]:
    return lambda world: url


def w(key: str) -> Callable[[dict[str, Any]], str]:
    """A valid value taken from the world (an id created by the fixture)."""
    return lambda world: str(world[key])


EVERYONE = "admin assistante coach parent eleve"  # every signed-in role
ROLE_EMAILS = {
    "admin": ADMIN,
    "assistante": ASSISTANTE,
    "coach": COACH,
    "parent": PARENT,
    "eleve": SAMI,
    "public": None,
}
REPORT = {
    "summary": (TEXT, "Travail sur les suites arithmétiques et géométriques, exercices du bac."),
    "topics": (TEXT, "Suites, récurrence"),
    "rating": (CHOICE, "4"),
    "progress_notes": (TEXT, "Des progrès nets sur la rédaction."),
    "recommendations": (TEXT, "Refaire les exercices 3 et 4."),
    "attended": (FREE, "y"),
    "engagement": (CHOICE, ""),
    "homework": (TEXT, ""),
    "next_focus": (TEXT, ""),
}
COACH_FORM = {
    "first_name": (NAME, "Mehdi"),
    "last_name": (NAME, "Jaziri"),
    "email": (EMAIL, "mehdi.jaziri@example.tn"),
    "phone": (PHONE, ""),
    "pseudonym": (NAME, "Pythagore"),
    "title": (NAME, ""),
    "tag": (NAME, ""),
    "subjects": (CHOICE, "MATHEMATIQUES"),
    "available_online": (FREE, "y"),
    "description": (TEXT, ""),
    "philosophy": (TEXT, ""),
    "expertise": (TEXT, ""),
}
BOOKING = {
    "matiere": (CHOICE, "MATHEMATIQUES"),
    "coach": (ID, w("helios")),
    "type": (CHOICE, "COURS_ONLINE"),
    "duree": (NUMBER, "60"),
    "debut": (DATETIME, w("free_start")),
}
# A plan: its ARIA subject is checked too.
ORDER = {"eleve": (ID, w("yasmine")), "offre": (CHOICE, "HYBRIDE"), "aria_subject": (CHOICE, "MATHEMATIQUES")}
NEW_PASSWORD = "trois lanternes au port de Sidi Bou Said"
ACCOUNT = {
    "current": (kind(["", "mauvais mot de passe", "\x1b", "x" * 5000]), "nexus-demo-2026"),
    "password": (FREE, NEW_PASSWORD),
    "confirm": (FREE, NEW_PASSWORD),
}

# Stages (issue 11): a family's reservation, and the staff's stage form (dates from the world).
STAGE_RESERVATION = {
    "parent_name": (NAME, "Nadia Ben Ali"),
    "student_name": (NAME, "Yasmine Ben Ali"),
    "email": (EMAIL, "famille.stage@example.tn"),
    "phone": (PHONE, "+216 22 333 444"),
    "grade": (CHOICE, "TERMINALE"),
    "liste_attente": (FREE, ""),
}
STAGE_FORM = {
    "title": (NAME, "Stage de printemps — Terminale"),
    "description": (TEXT, ""),
    "starts_on": (REQUIRED_DATE, w("stage_start")),
    "ends_on": (REQUIRED_DATE, w("stage_end")),
    "grade": (CHOICE, "TERMINALE"),
    "subjects": (CHOICE, "MATHEMATIQUES"),
    "price": (NUMBER, "450"),
    "seats": (NUMBER, "12"),
    "published": (FREE, "y"),
}

TARGETS: list[Target] = [
    # -- the public forms that write (the others are in test_forms_fuzz.py) --
    Target(
        "public",
        "public.contact_page",
        fixed("/contact"),
        {
            "name": (NAME, "Nadia Ben Ali"),
            "email": (EMAIL, "nadia@example.tn"),
            "phone": (PHONE, ""),
            "topic": (CHOICE, "autre"),
            "message": (TEXT, "Bonjour, je voudrais des informations sur les stages."),
        },
    ),
    Target(
        "public",
        "bilan.request_form",
        fixed("/bilan-gratuit"),
        {
            "step": (FREE, "4"),
            "parent_first_name": (NAME, "Nadia"),
            "parent_last_name": (NAME, "Ben Ali"),
            "parent_email": (EMAIL, "nadia@example.tn"),
            "parent_phone": (PHONE, "+216 22 333 444"),
            "student_first_name": (NAME, "Yasmine"),
            "student_last_name": (NAME, "Ben Ali"),
            "grade": (CHOICE, "TERMINALE"),
            "school": (NAME, ""),
            "subjects": (CHOICE, "MATHEMATIQUES"),
            "current_level": (CHOICE, "À l'aise"),
            "objectives": (TEXT, "Réussir le bac de mathématiques avec une mention."),
            "difficulties": (TEXT, ""),
            "modality": (CHOICE, "ONLINE"),
            "availability": (NAME, ""),
            "accept_terms": (FREE, "y"),
        },
    ),
    # -- admin --
    Target(
        "admin",
        "admin.toggle_active",
        lambda w_: f"/dashboard/admin/utilisateurs/{w_['adam_user']}/desactiver",
        {"confirm": (FREE, "1")},  # confirm=1: the person said yes
    ),
    Target(
        "admin assistante",
        "invoices.create",
        fixed("/dashboard/admin/factures/nouvelle"),
        {
            "customer_name": (NAME, "Famille Ben Ali"),
            "customer_email": (EMAIL, "parent@example.tn"),
            "customer_address": (LINE, ""),
            "notes": (TEXT, ""),
            "label_0": (LINE, "Stage de printemps"),
            "qty_0": (NUMBER, "1"),
            "price_0": (NUMBER, "450"),
            "discount": (NUMBER, "0"),
        },
    ),
    Target(
        "admin assistante",
        "invoices.change_status",
        lambda w_: f"/dashboard/admin/factures/{w_['invoice']}/statut",
        {
            "target": (CHOICE, "PAID"),
            "reason": (FREE, ""),  # read for a cancellation only
            "method": (CHOICE, "CASH"),
            "paid_amount": (NUMBER, "450"),
            "reference": (LINE, ""),
            "confirm": (FREE, "1"),
        },
    ),
    Target(
        "admin assistante",
        "invoices.send",
        lambda w_: f"/dashboard/admin/factures/{w_['invoice']}/envoyer",
        examples=3,
    ),
    # -- invoices (issue 13): the centre's settings, invoice-details requests --
    Target(
        "admin",
        "settings.centre",
        fixed("/dashboard/admin/parametres"),
        {
            "legal_name": (NAME, "Nexus Réussite SARL"),
            "address": (LINE, "Raoued 2056, Ariana"),
            "tax_id": (TAX_ID, "1234567A/A/M/000"),
            "rne": (kind(["ABC", "１２３４５６７A", *INVISIBLE], [""]), "1234567A"),
            "phone": (PHONE, ""),
            "email": (EMAIL, ""),
            "stamp_applies": (FREE, "y"),
            "stamp": (NUMBER, "1,000"),
            "mentions": (TEXT, "Paiement à réception."),
        },
    ),
    Target(
        "parent",
        "invoice_details.family_request",
        lambda w_: f"/dashboard/parent/factures/{w_['family_invoice']}/coordonnees",
        {
            "company_name": (NAME, "Ben Ali Conseil SARL"),
            "tax_id": (TAX_ID, "7654321B/A/M/000"),
            "address": (LINE, ""),
        },
    ),
    Target(
        "admin assistante",
        "invoice_details.decide",
        lambda w_: f"/dashboard/admin/factures/demandes/{w_['details_request']}/refuser",
        {
            "reason": (kind(["", "abc", *LINE_BREAKS, *INVISIBLE, "x" * 600]), "Matricule introuvable"),
            "confirm": (FREE, "1"),
        },
    ),
    # -- stages (issue 11) --
    Target("public", "stages.stage_page", lambda w_: f"/stages/{w_['stage_slug']}", STAGE_RESERVATION),
    Target("admin assistante", "stages.create", fixed("/dashboard/assistante/stages/nouveau"), STAGE_FORM),
    Target(
        "admin assistante",
        "stages.edit",
        lambda w_: f"/dashboard/assistante/stages/{w_['stage']}/modifier",
        STAGE_FORM,
    ),
    Target(
        "admin assistante",
        "stages.reservation_status",
        lambda w_: f"/dashboard/assistante/stages/reservations/{w_['stage_reservation']}/statut",
        {
            "expected": (CHOICE, "PENDING"),
            "status": (CHOICE, "CONFIRMED"),
            "retour": (FREE, ""),
            "confirm": (FREE, "1"),
        },
    ),
    # -- staff (admin and assistante) --
    Target(
        "admin assistante",
        "staff.bilan_status",
        lambda w_: f"/dashboard/assistante/bilans/{w_['bilan']}/statut",
        {
            "expected": (CHOICE, "RECEIVED"),
            "status": (CHOICE, "CONTACTED"),
            "retour": (FREE, ""),
            "confirm": (FREE, "1"),
        },
    ),
    Target(
        "admin assistante",
        "staff.contact_handled",
        lambda w_: f"/dashboard/assistante/contacts/{w_['contact']}/traite",
    ),
    Target(
        "admin assistante",
        "staff.student_activation",
        lambda w_: f"/dashboard/assistante/eleves/{w_['adam']}/activation",
        {"email": (EMAIL, "adam.nouveau@example.tn")},
    ),
    Target("admin assistante", "coaches.create", fixed("/dashboard/assistante/coachs/nouveau"), COACH_FORM),
    Target(
        "admin assistante",
        "coaches.edit",
        lambda w_: f"/dashboard/assistante/coachs/{w_['zenon']}/modifier",
        {k: v for k, v in COACH_FORM.items() if k != "email"},  # an activated coach's login stays
    ),
    Target(
        "admin assistante",
        "coaches.toggle_active",
        lambda w_: f"/dashboard/assistante/coachs/{w_['zenon']}/desactiver",
        {"confirm": (FREE, "1")},
    ),
    Target(
        "admin assistante",
        "coaches.invitation",
        lambda w_: f"/dashboard/assistante/coachs/{w_['zenon']}/invitation",
    ),
    Target(
        "admin assistante",
        "credits.adjust",
        fixed("/dashboard/assistante/credits/ajustement"),
        {
            "eleve": (ID, w("sami")),
            "amount": (NUMBER, "2"),
            "reason": (NAME, "Geste commercial"),
            "direction": (FREE, "ajouter"),
            "days": (NUMBER, "365"),
        },
    ),
    Target(
        "admin assistante",
        "credits.decide",
        lambda w_: f"/dashboard/assistante/credits/demandes/{w_['credit_request']}/refuser",
        {"reason": (NAME, "Pas de séance prévue"), "confirm": (FREE, "1")},
    ),
    Target(
        "admin assistante",
        "knowledge.retry",
        lambda w_: f"/dashboard/assistante/docs/{w_['document']}/relancer",
        examples=3,
    ),
    Target(
        "admin assistante",
        "knowledge.remove",
        lambda w_: f"/dashboard/assistante/docs/{w_['document']}/supprimer",
        {"confirm": (FREE, "1")},
        examples=3,
    ),
    Target(
        "admin assistante",
        "payments.approve",
        lambda w_: f"/dashboard/assistante/paiements/{w_['payment']}/valider",
        {"confirm": (FREE, "")},
        examples=4,
    ),
    Target(
        "admin assistante",
        "payments.reject",
        lambda w_: f"/dashboard/assistante/paiements/{w_['payment']}/refuser",
        {"reason": (NAME, "Virement introuvable"), "confirm": (FREE, "1")},
    ),
    Target(
        "admin assistante",
        "payments.check_card",
        lambda w_: f"/dashboard/assistante/paiements/{w_['card_payment']}/verifier",
        examples=3,
    ),
    # -- coach --
    Target(
        "coach",
        "coach.add_exception",
        fixed("/dashboard/coach/availability/exceptions"),
        {
            "on_date": (REQUIRED_DATE, w("next_week")),
            "kind": (CHOICE, "UNAVAILABLE"),
            "start": (TIME, ""),
            "end": (TIME, ""),
            "note": (NAME, ""),
        },
    ),
    Target(
        "coach",
        "coach.delete_exception",
        lambda w_: f"/dashboard/coach/availability/exceptions/{w_['exception']}/supprimer",
        examples=3,
    ),
    Target(
        "coach",
        "coach.save_day",
        fixed("/dashboard/coach/availability/jour/0"),
        {"start_0": (TIME, "14:00"), "end_0": (TIME, "19:00"), "start_1": (TIME, ""), "end_1": (TIME, "")},
    ),
    Target(
        "coach",
        "coach.save_validity",
        fixed("/dashboard/coach/availability/validite"),
        {"valid_from": (DATE, w("next_week")), "valid_until": (DATE, "")},  # blank start: today,
    ),
    Target(
        "coach",
        "coach.no_show",
        lambda w_: f"/dashboard/coach/sessions/{w_['past_booking']}/absence",
        examples=3,
    ),
    Target(
        "coach", "coach.report", lambda w_: f"/dashboard/coach/sessions/{w_['past_booking']}/rapport", REPORT
    ),
    # -- parent --
    Target(
        "parent",
        "credits.request_credits",
        fixed("/dashboard/parent/credits/demande"),
        {"eleve": (ID, w("yasmine")), "amount": (NUMBER, "2"), "reason": (NAME, "Préparation du bac blanc")},
    ),
    Target(
        "parent",
        "parent.children",
        fixed("/dashboard/parent/enfants"),
        {
            "first_name": (NAME, "Lina"),
            "last_name": (NAME, "Ben Ali"),
            "grade": (CHOICE, "SECONDE"),
            "school": (NAME, ""),
            "email": (EMAIL, ""),
        },
    ),
    Target(
        "parent",
        "dashboard.send_activation",
        lambda w_: f"/dashboard/parent/enfants/{w_['adam']}/activation",
        {"email": (EMAIL, "adam.nouveau@example.tn")},
    ),
    Target(
        "parent",
        "parent.declare_transfer",
        fixed("/dashboard/parent/paiement/virement"),
        ORDER,
    ),
    Target(
        "parent",
        "parent.pay_by_card",
        fixed("/dashboard/parent/paiement/carte"),
        ORDER,
        accepts_valid=False,  # no card gateway configured in the tests: 404
    ),
    Target(
        "parent",
        "sessions.book",
        fixed("/dashboard/sessions/reserver"),
        {"eleve": (ID, w("yasmine")), **BOOKING},
    ),
    Target(
        EVERYONE,
        "sessions.do_reschedule",
        lambda w_: f"/dashboard/sessions/{w_['booking']}/deplacer",
        {"debut": (DATETIME, w("free_start"))},
    ),
    Target(
        EVERYONE,
        "sessions.cancel",
        lambda w_: f"/dashboard/sessions/{w_['booking']}/annuler",
        {"reason": (TEXT, "Empêchement"), "confirm": (FREE, "1")},  # confirm=1: the person said yes
    ),
    Target("coach parent eleve", "sessions.regenerate_feed", fixed("/dashboard/calendrier"), examples=3),
    Target(
        EVERYONE,
        "notifications.mark_read",
        lambda w_: f"/notifications/{w_['notification']}/lu",
        examples=3,
    ),
    Target(
        EVERYONE,
        "notifications.mark_all_read",
        fixed("/notifications/tout-lu"),
        examples=3,
    ),
    Target(EVERYONE, "auth.account", fixed("/auth/compte"), ACCOUNT),
    # -- student --
    Target(
        "eleve",
        "aria.ask",
        fixed("/dashboard/eleve/aria/questions"),
        {
            "question": (TEXT, "Comment calculer la somme des termes d'une suite arithmétique ?"),
            "subject": (CHOICE, "MATHEMATIQUES"),
            "conversation": (ID, ""),
        },
    ),
    Target(
        "eleve",
        "aria.feedback",
        lambda w_: f"/dashboard/eleve/aria/messages/{w_['answer']}/avis",
        {"rating": (CHOICE, "1"), "comment": (TEXT, "")},
    ),
    Target("eleve", "sessions.book", fixed("/dashboard/sessions/reserver"), BOOKING),
    # Family care (issue 9)
    Target(
        "parent",
        "parent.edit_child",
        lambda w_: f"/dashboard/parent/enfants/{w_['care_child']}/modifier",
        {"first_name": (NAME, "Lina"), "last_name": (NAME, "Ben Ali"), "grade": (CHOICE, "PREMIERE")},
    ),
    Target(
        "parent",
        "parent.remove_child",
        lambda w_: f"/dashboard/parent/enfants/{w_['care_child']}/retirer",
        examples=3,
    ),
    Target(
        "parent",
        "parent.invite_co_parent",
        fixed("/dashboard/parent/enfants/second-parent"),
        {
            "first_name": (NAME, "Karim"),
            "last_name": (NAME, "Ben Ali"),
            "email": (EMAIL, "karim.benali@example.tn"),
            "phone": (PHONE, ""),
        },
    ),
    Target(
        "parent",
        "parent.resend_co_parent",
        fixed("/dashboard/parent/enfants/second-parent/renvoyer"),
        examples=3,
    ),
    Target(
        "parent",
        "parent.cancel_co_parent",
        fixed("/dashboard/parent/enfants/second-parent/annuler"),
        examples=3,
    ),
    # Admin accounts (issue 9)
    Target(
        "admin",
        "admin.new_user",
        fixed("/dashboard/admin/utilisateurs/nouveau"),
        {
            "role": (CHOICE, "PARENT"),
            "first_name": (NAME, "Leïla"),
            "last_name": (NAME, "Trabelsi"),
            "email": (EMAIL, "famille.trabelsi@example.tn"),
            "phone": (PHONE, ""),
            "children-0-first_name": (NAME, "Rania"),
            "children-0-last_name": (NAME, "Trabelsi"),
            "children-0-grade": (CHOICE, "PREMIERE"),
            "children-0-email": (EMAIL, ""),
            "password": (FREE, ""),  # read for an admin account only
        },
    ),
    Target(
        "admin",
        "admin.user_page",
        lambda w_: f"/dashboard/admin/utilisateurs/{w_['adam_user']}",
        {
            "first_name": (NAME, "Adem"),
            "last_name": (NAME, "Ben Ali"),
            "phone": (PHONE, ""),
            "email": (EMAIL, ""),
        },
    ),
    Target(
        "admin",
        "admin.cancel_email_change",
        lambda w_: f"/dashboard/admin/utilisateurs/{w_['adam_user']}/email/annuler",
        examples=3,
    ),
    Target(
        "admin",
        "admin.resend_activation",
        lambda w_: f"/dashboard/admin/utilisateurs/{w_['adam_user']}/activation",
        examples=3,
    ),
    Target(
        "admin",
        "admin.anonymise",
        lambda w_: f"/dashboard/admin/utilisateurs/{w_['adam_user']}/anonymiser",
        examples=3,
    ),
    # Subscription care (issue 13): Sami's plan, its end moved with a reason
    Target(
        "admin",
        "admin.edit_subscription",
        lambda w_: f"/dashboard/admin/abonnements/{w_['subscription']}/modifier",
        {
            "status": (CHOICE, "ACTIVE"),
            "ends_on": (REQUIRED_DATE, w("next_week")),
            "reason": (NAME, "Geste commercial accordé"),
            "confirm": (FREE, ""),
        },
    ),
    # Open family (issue 9)
    Target(
        "admin assistante",
        "enrolment.bilan_family",
        lambda w_: f"/dashboard/assistante/bilans/{w_['bilan']}/espace-famille",
        {
            "first_name": (NAME, "Nadia"),
            "last_name": (NAME, "Ben Ali"),
            "email": (EMAIL, "nadia@example.tn"),
            "phone": (PHONE, "+216 22 333 444"),
            "children-0-first_name": (NAME, "Adam"),
            "children-0-last_name": (NAME, "Ben Ali"),
            "children-0-grade": (CHOICE, "TERMINALE"),
            "children-0-email": (EMAIL, ""),
            "retour": (FREE, ""),
        },
    ),
    Target(
        "admin assistante",
        "enrolment.contact_family",
        lambda w_: f"/dashboard/assistante/contacts/{w_['contact']}/espace-famille",
        {
            "first_name": (NAME, "Nadia"),
            "last_name": (NAME, "Ben Ali"),
            "email": (EMAIL, "nadia@example.tn"),
            "phone": (PHONE, ""),
            "children-0-first_name": (NAME, "Adam"),
            "children-0-last_name": (NAME, "Ben Ali"),
            "children-0-grade": (CHOICE, "TERMINALE"),
            "children-0-email": (EMAIL, "adam.nouveau@example.tn"),
            "retour": (FREE, ""),
        },
    ),
]

# Positioning tests (issue 11): an answer names the question on screen; another id records nothing.
ANSWER = {"choice": (CHOICE, "B")}
TARGETS += [
    Target("eleve", "positioning.start", fixed("/dashboard/eleve/positionnement/commencer"),
           {"subject": (CHOICE, "MATHEMATIQUES")}),
    Target("eleve", "positioning.take", lambda world: f"/dashboard/eleve/positionnement/{world['sami_test']}",
           {**ANSWER, "item": (ID, w("sami_item"))}),
    Target("public", "positioning.participant", lambda world: f"/positionnement/{world['stage_token']}",
           {**ANSWER, "item": (ID, w("stage_item"))}),
    Target("admin assistante", "positioning.assign", fixed("/dashboard/assistante/positionnement/attribuer"),
           {"student": (ID, w("yasmine")), "subject": (CHOICE, "NSI")}),
]  # fmt: skip

# Bilans (issue 11): the family's questionnaire on a completed test (every answer optional, so a
# blank number is not refused), staff retry of a failed bilan and revocation of a ready one's links.
OPTIONAL_MARK = kind([v for v in NUMBER_REFUSED if v.strip()] + ["20,5", "21"], ["", "12", "12,5", "0"])
BILAN_FORM = {
    "school": (NAME, "Lycée Pierre Mendès France"),
    "teacher": (NAME, ""),
    "maths_average": (OPTIONAL_MARK, "13,5"),
    "speciality_average": (OPTIONAL_MARK, ""),
    "bac_blanc": (OPTIONAL_MARK, "11"),
    "class_rank": (NAME, "8e sur 32"),
    "confiance-MATHEMATIQUES-suites": (CHOICE, "3"),
    "objectives": (TEXT, "Une mention au bac."),
}
TARGETS += [
    Target("parent eleve", "bilans.questionnaire",
           lambda world: f"/dashboard/positionnement/{world['bilan_test']}/bilan", BILAN_FORM),
    Target("admin assistante", "bilans.staff_retry",
           lambda world: f"/dashboard/assistante/bilans-generes/{world['failed_bilan']}/relancer",
           {"confirm": (FREE, "1")}, examples=4),
    Target("admin assistante", "bilans.staff_revoke",
           lambda world: f"/dashboard/assistante/bilans-generes/{world['ready_bilan']}/revoquer",
           {"confirm": (FREE, "1")}, examples=4),
]  # fmt: skip

# E-mail preferences and the staff inbox (issue 12, helper "inbox").
TARGETS += [
    Target(EVERYONE, "inbox.preferences_page", fixed("/compte/notifications"),
           {"events": (CHOICE, "messages")}, examples=6),
]  # fmt: skip


# Messages (issue 12, helper "messaging"): a new thread to a choice the rules give the role, and a
# reply in a thread the role writes in (started when the URL is built, rolled back with the test).
def message_thread(email: str, to: str) -> Callable[[dict[str, Any]], str]:
    def url(world: dict[str, Any]) -> str:
        from nexus.services.messaging import threads

        return f"/messages/{threads.start(user(email), to.format(**world), 'Fuzz', 'Bonjour.').id}"

    return url


MESSAGE = {"body": (TEXT, "Merci pour votre réponse."), "file": (FREE, "")}
NEW_MESSAGE = {"subject": (NAME, "Devoir de maths"), **MESSAGE}
TARGETS += [
    Target("parent eleve", "messages.create", fixed("/messages"), {"to": (CHOICE, "centre"), **NEW_MESSAGE}),
    Target("coach admin assistante", "messages.create", fixed("/messages"),
           {"to": (CHOICE, lambda world: f"parents:{world['sami']}"), **NEW_MESSAGE}),
    Target("parent", "messages.reply", message_thread(PARENT, "centre"), MESSAGE),
    Target("eleve", "messages.reply", message_thread(SAMI, "centre"), MESSAGE),
    Target("coach", "messages.reply", message_thread(COACH, "parents:{sami}"), MESSAGE),
    Target("admin assistante", "messages.reply", message_thread(PARENT, "centre"), MESSAGE),
]  # fmt: skip


# The staff inbox (issue 12, helper "inbox"): every signed-in role reaches these URLs, the staff
# act, anyone else gets 404. Threads, messages and reports are made when the URL is built.
def inbox_thread(path: str, email: str = PARENT, to: str = "centre") -> Callable[[dict[str, Any]], str]:
    def url(world: dict[str, Any]) -> str:
        from nexus.services.messaging import threads

        thread = threads.start(user(email), to.format(**world), "Fuzz inbox", "Bonjour.")
        return path.format(thread=thread.id, message=threads.messages_of(thread.id)[0].id)

    return url


def inbox_report(world: dict[str, Any]) -> str:
    from nexus.services.messaging import safeguarding, threads

    thread = threads.start(user(PARENT), "centre", "Fuzz signalement", "Bonjour.")
    done = safeguarding.report(user(PARENT), threads.messages_of(thread.id)[0].id, "Message déplacé.")
    assert done is not None
    return f"/messages/boite/signalements/{done.report.id}/traite"


EXPECTED_ASSIGNEE = kind(["0", "-1", "9" * 25, "1e309", "NaN", "²", "1.5", "x"], EXOTIC_ODD)
INBOX_ANSWER = {"subject": (NAME, "Nos tarifs"), "body": (TEXT, "Bonjour, voici nos tarifs.")}
REASON = {"reason": (TEXT, "Ce message me met mal à l'aise.")}
REPORT_URL = "/messages/signaler/{message}"
TARGETS += [
    Target(EVERYONE, "inbox.take", inbox_thread("/messages/boite/{thread}/prendre"),
           {"attendu": (EXPECTED_ASSIGNEE, "")}, examples=4),
    Target(EVERYONE, "inbox.assign", inbox_thread("/messages/boite/{thread}/attribuer"),
           {"attendu": (EXPECTED_ASSIGNEE, ""), "assignee": (ID, lambda world: str(user(ASSISTANTE).id))},
           examples=4),
    Target(EVERYONE, "inbox.status", inbox_thread("/messages/boite/{thread}/statut"),
           {"attendu": (CHOICE, "OPEN"), "statut": (CHOICE, "HANDLED"), "confirm": (FREE, "1")}, examples=4),
    Target(EVERYONE, "inbox.answer_contact", lambda w_: f"/messages/boite/contact/{w_['contact']}/repondre",
           INBOX_ANSWER, examples=4),
    Target(EVERYONE, "inbox.answer_bilan", lambda w_: f"/messages/boite/bilan/{w_['bilan']}/repondre",
           INBOX_ANSWER, examples=4),
    Target(EVERYONE, "inbox.report_handled", inbox_report, {"confirm": (FREE, "1")}, examples=4),
    Target("parent", "inbox.report", inbox_thread(REPORT_URL, PARENT), REASON, examples=4),
    Target("eleve", "inbox.report", inbox_thread(REPORT_URL, SAMI), REASON, examples=4),
    Target("coach", "inbox.report", inbox_thread(REPORT_URL, COACH, "parents:{sami}"), REASON, examples=4),
    Target("admin assistante", "inbox.report", inbox_thread(REPORT_URL), REASON, examples=4),
]  # fmt: skip


# Trajectories (issue 12, helper "trajectory"): Hélios follows Yasmine (a new one) and Sami (his
# live trajectory, made when the URL is built, titled otherwise than the form; rolled back).
def sami_trajectory(path: str, milestone: bool = False) -> Callable[[dict[str, Any]], str]:
    def url(world: dict[str, Any]) -> str:
        from nexus.services.progress import trajectory

        live = trajectory.live_of(world["sami"]) or trajectory.create(
            user(ADMIN), world["sami"], trajectory.Draft(
                "Objectif initial", 6, fr.local_today(utcnow()), target_ssn=55,
                milestones=[trajectory.MilestoneDraft("Réviser les suites")],
            ),
        )  # fmt: skip
        return path.format(id=live.milestones[0].id if milestone else live.id)

    return url


TRAJECTORY_FORM = {
    "title": (NAME, "Viser 14 au bac"),
    "subject": (CHOICE, "MATHEMATIQUES"),
    "target_level": (NAME, ""),
    "target_ssn": (NUMBER, "60"),
    "horizon_months": (CHOICE, "6"),
    "starts_on": (REQUIRED_DATE, w("next_week")),
    "agreed": (FREE, "y"),
    "milestones-0-title": (NAME, "Les suites"),
    "milestones-0-due_on": (DATE, ""),
    "milestones-0-domain": (CHOICE, ""),
    "milestones-0-target": (NUMBER, ""),
}
EDITORS = "admin assistante coach"
STEPS = "/dashboard/trajectoires/etapes/{id}"
TARGETS += [
    Target(EDITORS, "trajectories.new", lambda w_: f"/dashboard/eleves/{w_['yasmine']}/trajectoire/nouvelle",
           TRAJECTORY_FORM),
    Target(EDITORS, "trajectories.edit", sami_trajectory("/dashboard/trajectoires/{id}/modifier"),
           TRAJECTORY_FORM),
    Target(EDITORS, "trajectories.status", sami_trajectory("/dashboard/trajectoires/{id}/statut"),
           {"status": (CHOICE, "PAUSED"), "confirm": (FREE, "1")}),
    Target(EDITORS, "trajectories.tick", sami_trajectory(STEPS + "/cocher", True), examples=3),
    Target(EDITORS, "trajectories.untick", sami_trajectory(STEPS + "/decocher", True), examples=3),
]  # fmt: skip


# ARIA (issue 12, helper "aria"): the consent notice's answer, and staff taking an alert in hand
# (an alert on the world's question, made when the URL is built; rolled back with the test).
def aria_alert(world: dict[str, Any]) -> str:
    from nexus.models.aria import AriaAlert, AriaMessage, SafetyCategory

    question_id = db.session.get(AriaMessage, world["answer"]).reply_to_id
    alert = db.session.scalar(db.select(AriaAlert).where(AriaAlert.message_id == question_id))
    if alert is None:
        alert = AriaAlert(message_id=question_id, student_id=world["sami"], source="lexicon")
        alert.category = SafetyCategory.DISTRESS
        db.session.add(alert)
        db.session.commit()
    return f"/dashboard/assistante/alertes-aria/{alert.id}/pris-en-charge"


TARGETS += [
    Target("eleve", "aria.consent", fixed("/dashboard/eleve/aria/consentement"),
           {"choix": (CHOICE, "oui"), "conversation": (ID, w("conversation"))}),
    Target("admin assistante", "aria.acknowledge", aria_alert, {"confirm": (FREE, "1")}, examples=4),
]  # fmt: skip


# Documents vault (issue 13, helper "vault"): staff file a document in Sami's space (the file field
# is sent empty here, so the control is refused: the multipart uploads are in test_vault_upload.py),
# and remove one (filed when the URL is built; rolled back with the test).
def vault_document(world: dict[str, Any]) -> str:
    from nexus.models.vault import DocumentKind
    from nexus.services import vault

    document = vault.add(user(SAMI).id, DocumentKind.OTHER, "Fuzz", "fuzz.pdf", b"%PDF-1.4 fuzz")
    return f"/dashboard/assistante/documents/retirer/{document.id}"


VAULT_UPLOAD = {
    "person": (NAME, "Sami"),  # typed, or chosen in the search (then `owner` holds the id)
    "owner": (FREE, ""),
    "title": (NAME, "Bulletin du 1er trimestre"),
    "kind": (CHOICE, "SCHOOL_REPORT"),
    "file": (FREE, ""),
}
TARGETS += [
    Target("admin assistante", "documents.staff_upload", fixed("/dashboard/assistante/documents"),
           VAULT_UPLOAD, accepts_valid=False),
    Target("admin assistante", "documents.staff_remove", vault_document, {"confirm": (FREE, "1")},
           examples=4),
]  # fmt: skip


# Operations health (issue 13, helper "operations"): retry or discard an e-mail given up on (made
# when the URL is built; rolled back with the test), and the test e-mail to oneself.
def failed_email(action: str) -> Callable[[dict[str, Any]], str]:
    def url(world: dict[str, Any]) -> str:
        from nexus.models.notifications import OutboxEmail, OutboxStatus

        row = OutboxEmail(
            to_email="fuzz@example.tn",
            template="password_reset",
            subject="Fuzz",
            status=OutboxStatus.FAILED,
            attempts=8,
            last_error="SMTPException: fuzz",
        )
        db.session.add(row)
        db.session.commit()
        return f"/dashboard/admin/operations/emails/{row.id}/{action}"

    return url


TARGETS += [
    Target("admin", "operations.retry_email", failed_email("reessayer"), examples=3),
    Target("admin", "operations.discard_email", failed_email("abandonner"), {"confirm": (FREE, "1")},
           examples=3),
    Target("admin", "operations.test_email", fixed("/dashboard/admin/operations/email-test"), examples=3),
]  # fmt: skip

# Coach pay (issue 14): the month's computation, an adjustment (a signed amount: "-12,500" is a
# deduction), the validation (the total the confirmation showed), a coach's rate, the pay rules.
MONTH = kind(["2030-13", "2030-00", "NaN", "1e309", "２０３０-03", "99999-01", "\x1b", "2030-3"], [""])
SIGNED_AMOUNT = kind([v for v in NUMBER_REFUSED if v not in ("-1", "-0.5")] + ["0", "+-3"], ["-1", "+2"])
TOTAL = kind(["abc", "1e309", "NaN", "²", "9" * 30, "1.5", "-", "\x1b"], ["0", "1", ""])
TARGETS += [
    Target("admin assistante", "coach_pay.refresh_month", fixed("/dashboard/admin/remuneration/calculer"),
           {"mois": (MONTH, w("last_month"))}, examples=4),
    Target("admin assistante", "coach_pay.adjust",
           lambda w_: f"/dashboard/admin/remuneration/{w_['statement']}/ajuster",
           {"amount": (SIGNED_AMOUNT, "-12,500"), "reason": (NAME, "Séance de rattrapage")}),
    Target("admin assistante", "coach_pay.validate",
           lambda w_: f"/dashboard/admin/remuneration/{w_['statement']}/valider",
           {"confirm": (FREE, "1"), "expected_total": (TOTAL, w("statement_total"))}),
    Target("admin assistante", "coach_pay.rates",
           lambda w_: f"/dashboard/assistante/coachs/{w_['zenon']}/tarifs",
           {"modality": (CHOICE, "ONLINE"), "hourly": (NUMBER, "30,500"),
            "effective_from": (REQUIRED_DATE, "2030-04-01")}),
    Target("admin", "settings.pay", fixed("/dashboard/admin/parametres/remuneration"),
           {"pay_no_show": (FREE, "y"), "late_cancel_share": (NUMBER, "40")}),
]  # fmt: skip


# Workshops (issue 14, helper W2): a workshop made when the URL is built (rolled back with the
# test), of Sami's level (the fuzzed student) or Yasmine's (the fuzzed parent's child); "full":
# its two seats held by two other children; "waiting": full, the child in line; "seated": the
# child holds a seat. The report's workshop started three hours ago, without participants.
def workshop_url(path: str, grade: str = "PREMIERE", state: str = "open") -> Callable[[dict[str, Any]], str]:
    def url(world: dict[str, Any]) -> str:
        from datetime import datetime, time

        from nexus.models.catalog import ServiceType
        from nexus.models.common import Grade, Subject
        from nexus.models.family import Student
        from nexus.models.workshops import WaitStatus, WorkshopWaitlist
        from nexus.services import workshops

        starts = datetime.combine(fr.local_today(utcnow()) + timedelta(days=6), time(15), fr.TUNIS)
        data = workshops.WorkshopInput(factories.coach("Hélios"), Subject.MATHEMATIQUES, Grade[grade],
                                       "Atelier fuzz", "", starts, 60, True, 2)  # fmt: skip
        made = workshops.create(user(ADMIN), data)[0]
        child = world["sami"] if grade == "PREMIERE" else world["yasmine"]
        if state in ("full", "waiting"):
            for other in [s for s in (world["sami"], world["yasmine"], world["adam"]) if s != child]:
                seat = factories.booking(other, made.coach_id, made.starts_at)
                seat.workshop_id, seat.service = made.id, ServiceType.ATELIER_GROUPE
        if state == "waiting":
            db.session.add(WorkshopWaitlist(workshop_id=made.id, student_id=child, status=WaitStatus.WAITING))
        if state == "seated":
            workshops.book_seat(user(ADMIN), db.session.get(Student, child), made.id)
        db.session.commit()
        return path.format(id=made.id)

    return url


def started_workshop(world: dict[str, Any]) -> str:
    import secrets

    from nexus.models.common import Grade, Subject
    from nexus.models.workshops import Workshop, WorkshopStatus

    starts = utcnow() - timedelta(hours=3)
    made = Workshop(
        coach_id=world["helios"], subject=Subject.MATHEMATIQUES, grade=Grade.PREMIERE, title="Atelier passé",
        description="", starts_at=starts, ends_at=starts + timedelta(hours=1), online=True, seats=4,
        credits_cost=Decimal("1.5"), status=WorkshopStatus.SCHEDULED,
        room_name=f"fuzz-{secrets.token_hex(8)}",
    )  # fmt: skip
    db.session.add(made)
    db.session.commit()
    return f"/dashboard/coach/ateliers/{made.id}/rapport"


WORKSHOP_FORM = {
    "subject": (CHOICE, "MATHEMATIQUES"),
    "grade": (CHOICE, "PREMIERE"),
    "title": (NAME, "Suites numériques"),
    "description": (TEXT, ""),
    "day": (REQUIRED_DATE, lambda world: (fr.local_today(utcnow()) + timedelta(days=5)).isoformat()),
    "start": (TIME, "16:00"),
    "minutes": (CHOICE, "60"),
    "place": (CHOICE, "en_ligne"),
    "seats": (NUMBER, "4"),
    "weeks": (NUMBER, "2"),
}
SHARED_PART = ("summary", "topics", "recommendations", "homework", "next_focus")
WORKSHOP_REPORT = {name: REPORT[name] for name in SHARED_PART}
W_ELEVE, W_PARENT = "/dashboard/eleve/ateliers/{id}", "/dashboard/parent/ateliers/{id}"
SEAT_CANCEL = {"reason": (TEXT, "Empêchement"), "confirm": (FREE, "1")}
YASMINE_ID = {"eleve": (ID, w("yasmine"))}
TARGETS += [
    Target("admin assistante", "workshops.staff_create", fixed("/dashboard/assistante/ateliers/nouveau"),
           {"coach": (ID, w("helios")), **WORKSHOP_FORM}),
    Target("coach", "workshops.coach_create", fixed("/dashboard/coach/ateliers/nouveau"), WORKSHOP_FORM),
    Target("admin assistante", "workshops.staff_cancel",
           workshop_url("/dashboard/assistante/ateliers/{id}/annuler", state="seated"),
           {"reason": (TEXT, "Coach malade"), "confirm": (FREE, "1")}),
    Target("coach", "workshops.coach_report", started_workshop, WORKSHOP_REPORT),
    Target("eleve", "workshops.eleve_book", workshop_url(W_ELEVE + "/reserver"), examples=4),
    Target("parent", "workshops.parent_book", workshop_url(W_PARENT + "/reserver", "TERMINALE"), YASMINE_ID),
    Target("eleve", "workshops.eleve_join", workshop_url(W_ELEVE + "/attente", state="full"), examples=4),
    Target("parent", "workshops.parent_join", workshop_url(W_PARENT + "/attente", "TERMINALE", "full"),
           YASMINE_ID),
    Target("eleve", "workshops.eleve_leave", workshop_url(W_ELEVE + "/attente/quitter", state="waiting"),
           {"confirm": (FREE, "1")}, examples=4),
    Target("parent", "workshops.parent_leave",
           workshop_url(W_PARENT + "/attente/quitter", "TERMINALE", "waiting"),
           {**YASMINE_ID, "confirm": (FREE, "1")}),
    Target("eleve", "workshops.eleve_cancel", workshop_url(W_ELEVE + "/annuler", state="seated"),
           SEAT_CANCEL),
    Target("parent", "workshops.parent_cancel", workshop_url(W_PARENT + "/annuler", "TERMINALE", "seated"),
           {**YASMINE_ID, **SEAT_CANCEL}),
]  # fmt: skip

# POST routes not fuzzed here, each with the reason.
EXCLUDED = {
    "auth.signin": "public form: test_forms_fuzz.py::test_sign_in_form",
    "auth.forgot": "public form: test_forms_fuzz.py::test_forgot_password_form",
    "auth.activate": "public form: test_forms_fuzz.py::test_token_pages",
    "auth.reset_password": "public form: test_forms_fuzz.py::test_token_pages",
    "auth.renew_activation": "public form: test_forms_fuzz.py::test_token_pages",
    "auth.signout": "no input; it only ends the session (test_auth.py)",
    "knowledge.upload": "multipart upload: test_forms_fuzz_uploads.py",
    "aria.answer": "no input; streams the answer of a stored question (test_aria_stream.py)",
    # Signup (issue 9)
    "signup.form": "public form: test_forms_fuzz.py::test_signup_form",
    "signup.confirm": "public form: test_forms_fuzz.py::test_signup_link_pages",
    "signup.renew": "public form: test_forms_fuzz.py::test_signup_link_pages",
    # Admin accounts (issue 9)
    "auth.confirm_email": "public form: test_admin_accounts.py::test_confirm_email_link_fuzz",
}


# -- the world the forms act on ----------------------------------------------------------------------


@pytest.fixture
def world(app: Any) -> dict[str, Any]:
    """Ids of one of each row a form acts on (rolled back with the test)."""
    from nexus.models.billing import InvoiceStatus
    from nexus.models.common import Grade, Subject
    from nexus.models.diagnostics import Modality
    from nexus.models.knowledge import Document
    from nexus.models.scheduling import ExceptionKind, SessionStatus
    from nexus.services import billing, contact, credits, diagnostics, invoices
    from nexus.services.diagnostics import BilanAnswers
    from nexus.services.scheduling import availability

    sami, yasmine, helios, zenon = (
        factories.student(SAMI),
        factories.student("yasmine@nexus-reussite.tn"),
        factories.coach("Hélios"),
        factories.coach("Zénon"),
    )
    now = utcnow()
    factories.entitle(yasmine.id, 3)
    factories.entitle(sami.id, 3)
    entitle_aria(sami.id, "MATHEMATIQUES")
    start = (now + timedelta(days=9)).replace(hour=13, minute=0, second=0, microsecond=0)
    yasmine_booking = factories.booking(yasmine.id, helios.id, start)
    sami_booking = factories.booking(sami.id, helios.id, start + timedelta(days=1))
    past = factories.booking(sami.id, helios.id, now - timedelta(days=2), status=SessionStatus.SCHEDULED)
    contact_row = contact.submit("Nadia Ben Ali", "nadia@example.tn", None, "autre", "Bonjour, une question.")
    bilan = diagnostics.submit_bilan_request(
        BilanAnswers(
            parent_first_name="Nadia",
            parent_last_name="Ben Ali",
            parent_email="nadia@example.tn",
            parent_phone="+216 22 333 444",
            student_first_name="Adam",  # not the form's valid child: that would be a resend
            student_last_name="Ben Ali",
            grade=Grade.TERMINALE,
            subjects=[Subject.MATHEMATIQUES],
            modality=Modality.ONLINE,
        )
    )
    # Staff decide on the other family's request and transfer: the parent's own forms stay free.
    parent2 = user(PARENT2)
    request_row = credits.request_credits(parent2.id, sami.id, Decimal(2), "Bac blanc")
    payment = billing.declare_transfer(parent2, billing.build_order(parent2, sami.id, "CREDITS_5", None))
    invoice = invoices.create(
        "Famille Ben Ali",
        [invoices.Line("Stage de printemps", 1, 450_000)],
        status=InvoiceStatus.SENT,  # so that it may be marked paid
        actor_id=user(ADMIN).id,
        customer_email="parent@example.tn",
    )
    today = fr.local_today(now)
    exception = availability.add_exception(
        helios.id, today + timedelta(days=20), ExceptionKind.UNAVAILABLE, None, None, None, today
    )
    conversation = AriaConversation(student_id=sami.id, subject="MATHEMATIQUES", title="Suites")
    db.session.add(conversation)
    db.session.flush()
    _, answer = question_and_answer(
        conversation,
        "Une suite ?",
        "Une suite est une liste de nombres indexée par les entiers [1].",
        citations=[{"n": 1, "title": "Suites numériques", "section": None, "page": None}],
        mode=AnswerMode.LLM,
    )
    notes = {role: Notification(user_id=user(email).id, kind="info", title="Bienvenue")
             for role, email in ROLE_EMAILS.items() if email}  # fmt: skip
    db.session.add_all(notes.values())
    db.session.flush()
    document = db.session.scalar(db.select(Document.id).order_by(Document.id).limit(1))
    # Family care (issue 9)
    from nexus.services import family as family_service

    care_child = family_service.add_child(user(PARENT), "Lina", "Ben Ali", Grade.SECONDE, None, None)
    # Bilans (issue 11): Yasmine's and Sami's completed tests, a failed and a ready bilan.
    from nexus.models.diagnostics import BilanError, GenerationStatus
    from tests.integration.bilans_support import a_bilan, completed_test

    yasmine_done, sami_done = completed_test(yasmine), completed_test(sami)
    failed_bilan = a_bilan(
        completed_test(participant_email="rim@example.tn"),
        GenerationStatus.FAILED,
        error_code=BilanError.LLM_TIMEOUT,
    )
    ready_bilan = a_bilan(
        completed_test(participant_email="ali@example.tn", participant_name="Ali"), GenerationStatus.READY,
        step=3, student_markdown="Ton bilan", parents_markdown="Le bilan", team_markdown="Bilan équipe",
    )  # fmt: skip
    # Positioning tests (issue 11): Sami's adaptive test and a stage participant's, both started.
    from nexus.services.assessments import taking

    sami_test = taking.begin(taking.start_test(sami, Subject.NSI).id)
    stage_test = taking.begin(taking.start_participant_test("lina@example.tn", "Lina", Grade.TERMINALE).id)
    # Stages (issue 11): a stage (its title differs from the form's) and a pending reservation.
    from nexus.services import stages

    stage = stages.create_stage(
        stages.StageFields(
            "Stage d'hiver", "", today + timedelta(days=30), today + timedelta(days=34), Grade.TERMINALE,
            [Subject.MATHEMATIQUES], 400_000, 12, True,
        ),
        user(ADMIN),
    )  # fmt: skip
    stage_details = stages.ReservationDetails(
        "Karim Gharbi", "Lina Gharbi", "karim@example.tn", "+216 22 333 444", Grade.TERMINALE
    )
    stage_reservation = stages.reserve(stage.id, stage_details).reservation
    # Invoices (issue 13): an invoice of Nadia's family she may ask about; Hichem's request for staff.
    from nexus.models.billing import Invoice, Payment
    from nexus.services import invoice_details

    family_invoice = invoices.create(
        "Famille Ben Ali", [invoices.Line("Atelier", 1, 100_000)], status=InvoiceStatus.SENT,
        actor_id=user(ADMIN).id, beneficiary_id=user(PARENT).id,
    )  # fmt: skip
    demo_payment = db.session.scalar(db.select(Payment).where(Payment.reference == "NX-DEMO-0001"))
    demo_invoice = db.session.scalar(db.select(Invoice).where(Invoice.payment_id == demo_payment.id))
    details_request = invoice_details.ask(parent2, demo_invoice.id, "Gharbi SA", "7654321B/A/M/000", None)
    # Card care (issue 13): a card payment of parent2's left pending (no gateway configured here)
    from nexus.models.billing import PaymentMethod

    card_order = billing.build_order(parent2, sami.id, "CREDITS_10", None)
    card_payment = billing.create_pending(parent2, card_order, PaymentMethod.CLICTOPAY, "NX-CARDFUZZ")
    # Coach pay (issue 14): Hélios's rates and his draft statement of last month.
    from nexus.models.coach_pay import PayModality
    from nexus.services import coach_pay

    rates_from = today.replace(day=1) - timedelta(days=60)
    for modality in PayModality:
        coach_pay.set_rate(user(ADMIN), helios.id, modality, 30_000, rates_from)
    last_month = coach_pay.shift(coach_pay.current_month(now), -1)
    statement = coach_pay.refresh(user(ADMIN), helios.id, last_month)
    db.session.commit()
    free = (now + timedelta(days=15)).astimezone(factories_tz()).replace(hour=15, minute=0)
    return {
        "sami": sami.id,
        "yasmine": yasmine.id,
        "adam": adam().id,
        "adam_user": adam().user_id,
        "helios": helios.id,
        "zenon": zenon.id,
        "yasmine_booking": yasmine_booking.id,
        "sami_booking": sami_booking.id,
        "past_booking": past.id,
        "contact": contact_row.id,
        "bilan": bilan.id,
        "credit_request": request_row.id,
        "payment": payment.id,
        "invoice": invoice.id,
        "exception": exception.id,
        "answer": answer.id,
        "conversation": conversation.id,
        # Bilans (issue 11)
        "bilan_test": yasmine_done.id,
        "failed_bilan": failed_bilan.id,
        "ready_bilan": ready_bilan.id,
        # What each role acts on: its own notification, a session it takes part in.
        "per_role": {
            role: {
                "notification": note.id,
                "booking": {"eleve": sami_booking.id}.get(role, yasmine_booking.id),
                "bilan_test": {"eleve": sami_done.id}.get(role, yasmine_done.id),  # their own test
            }
            for role, note in notes.items()
        },
        "document": document,
        "next_week": (today + timedelta(days=7)).isoformat(),
        "free_start": free.strftime("%Y-%m-%dT%H:%M"),
        # Family care (issue 9)
        "care_child": care_child.id,  # no history: it may be edited and removed
        # Positioning tests (issue 11)
        "sami_test": sami_test.id,
        "sami_item": sami_test.current_item_id,
        "stage_token": taking.participant_token(stage_test),
        "stage_item": stage_test.current_item_id,
        # Stages (issue 11)
        "stage": stage.id,
        "stage_slug": stage.slug,
        "stage_reservation": stage_reservation.id,
        # Invoices (issue 13)
        "family_invoice": family_invoice.id,
        "details_request": details_request.id,
        # Card and subscription care (issue 13)
        "card_payment": card_payment.id,
        "subscription": billing.active_subscription(sami.id).id,
        "stage_start": (today + timedelta(days=40)).isoformat(),
        "stage_end": (today + timedelta(days=44)).isoformat(),
        # Coach pay (issue 14)
        "last_month": last_month,
        "statement": statement.id,
        "statement_total": statement.total_millimes,
    }


def factories_tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Africa/Tunis")


# -- checks ---------------------------------------------------------------------------------------

FUZZ = {
    "deadline": None,
    "derandomize": True,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
}


def draw_form(
    data: st.DataObject, target: Target, world: dict[str, Any]
) -> tuple[dict[str, str], str | None]:
    """The posted fields: one (drawn) field gets a value that must be refused, the others anything."""
    hostile = None
    refusing = [name for name, (k, _) in target.fields.items() if k.refused]
    if refusing:
        hostile = data.draw(st.sampled_from(refusing), label="hostile field")
    form: dict[str, str] = {}
    for name, (k, valid) in target.fields.items():
        good = valid(world) if callable(valid) else valid
        if name == hostile:
            form[name] = data.draw(st.sampled_from(k.refused), label=name)
            continue
        choices = [st.just(good)] * 4  # mostly valid, so that the form gets to the hostile field
        if k.odd:
            choices.append(st.sampled_from(k.odd))
        if k.refused:
            choices.append(st.sampled_from(k.refused))
        form[name] = data.draw(st.one_of(*choices), label=name)
    if not target.fields:  # no typed input: junk extra fields only
        form["retour"] = data.draw(ANY_TEXT, label="retour")
        form[data.draw(st.sampled_from(["confirm", "x", "eleve", "reason"]))] = data.draw(
            ANY_TEXT, label="extra"
        )
    return form, hostile


CASES = [(target, role) for target in TARGETS for role in target.roles.split()]


@pytest.mark.parametrize(("target", "role"), CASES, ids=[f"{role}:{t.endpoint}" for t, role in CASES])
def test_fuzz_every_form_of_every_role(app, client, login, world, target: Target, role: str) -> None:  # type: ignore[no-untyped-def]
    email = ROLE_EMAILS[role]
    if email:
        login(client, email)
    world = world | world["per_role"].get(role, {})
    url = target.url(world)
    name = f"{role}:{target.endpoint}"

    @settings(max_examples=target.examples, **FUZZ)
    @given(data=st.data(), htmx=st.booleans())
    def run(data: st.DataObject, htmx: bool) -> None:
        form, hostile = draw_form(data, target, world)
        before, files = fingerprint(), stored_files(app)
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.post(url, data=form, headers=headers)
        assert response.status_code < 500, f"{name} answered {response.status_code} to {form!r}"
        assert "/auth/signin" not in response.headers.get("Location", ""), "signed out: nothing was tested"
        if response.status_code in (409, 422):  # the form or row again: the refusal is said
            said = re.search(r'role="(alert|status)"[^>]*>\s*\S', response.get_data(as_text=True))
            assert said, f"{name}: silent refusal of {form!r}"
        if hostile is not None:
            after = changed_tables(before, fingerprint())
            assert after == [], f"{name} wrote to {after} although {hostile}={form[hostile]!r}"
            assert stored_files(app) == files, f"{name} left a file for {form!r}"

    run()


def test_every_post_route_is_fuzzed(app) -> None:  # type: ignore[no-untyped-def]
    fuzzed = {t.endpoint for t in TARGETS}
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    missing = sorted(posts - fuzzed - set(EXCLUDED))
    assert missing == [], f"POST routes neither fuzzed nor excluded with a reason: {missing}"
    assert not (fuzzed & set(EXCLUDED)), "a route is both fuzzed and excluded"
    assert fuzzed | set(EXCLUDED) <= posts, "the table names a route the app no longer has"


# One role per form (the views are the same for every role), and only forms with refusable fields.
SWEEP = [(t, t.roles.split()[0]) for t in TARGETS if any(k.refused for k, _ in t.fields.values())]


def hostile_cases(target: Target) -> list[tuple[str, str]]:
    """(field, value) pairs: every refusable value of each kind, spread over the form's fields of
    that kind so that each field gets at least one (six milestone texts need not all get all)."""
    fields_of: dict[int, list[str]] = {}
    for name, (k, _) in target.fields.items():
        if k.refused:
            fields_of.setdefault(id(k), []).append(name)
    cases = []
    for names in fields_of.values():
        refused = target.fields[names[0]][0].refused
        cases += [
            (names[i % len(names)], refused[i % len(refused)]) for i in range(max(len(refused), len(names)))
        ]
    return cases


@pytest.mark.parametrize(("target", "role"), SWEEP, ids=[f"{role}:{t.endpoint}" for t, role in SWEEP])
def test_each_hostile_value_alone_is_refused(app, client, login, world, target: Target, role: str) -> None:  # type: ignore[no-untyped-def]
    """Every refusable value of each kind of field, the other fields valid: all refused, nothing
    written."""
    if ROLE_EMAILS[role]:
        login(client, ROLE_EMAILS[role])
    world = world | world["per_role"].get(role, {})
    url = target.url(world)
    valid = {name: value(world) if callable(value) else value for name, (_, value) in target.fields.items()}
    failures = []
    state, files = fingerprint(), stored_files(app)
    for name, value in hostile_cases(target):
        counts = write_counts()
        response = client.post(url, data={**valid, name: value})
        written: list[str] = []
        if write_counts() != counts:  # something moved: compare every table's rows
            written, state = changed_tables(state, now := fingerprint()), now
        if response.status_code >= 500 or written or stored_files(app) != files:
            failures.append((name, value[:40], response.status_code, written))
    assert failures == [], f"{role}:{target.endpoint} (field, value, status, tables written)"
    if target.accepts_valid:  # the control: the refusals above were the hostile values' doing
        before = fingerprint()
        response = client.post(url, data=valid)
        assert changed_tables(before, fingerprint()), f"the valid form was refused: {response.status_code}"


ROLE_NAMES = {Role.ADMIN: "admin", Role.ASSISTANTE: "assistante", Role.COACH: "coach"}
ROLE_NAMES |= {Role.PARENT: "parent", Role.ELEVE: "eleve"}


def allowed_roles(app: Any, endpoint: str) -> set[str]:
    """The roles the access policy lets use an endpoint ("public" for everyone)."""
    rule = policy.rule_for(app, endpoint)
    assert rule is not None, endpoint
    if rule.public:
        return {"public"}
    return {ROLE_NAMES[r] for r in (rule.roles if rule.roles is not None else ROLE_NAMES)}


def test_every_form_is_fuzzed_as_every_role_that_may_use_it(app) -> None:  # type: ignore[no-untyped-def]
    fuzzed: dict[str, set[str]] = {}
    for target, role in CASES:
        fuzzed.setdefault(target.endpoint, set()).add(role)
    wrong = {
        endpoint: (sorted(allowed_roles(app, endpoint)), sorted(roles))
        for endpoint, roles in fuzzed.items()
        if roles != allowed_roles(app, endpoint)
    }
    assert wrong == {}, "endpoint: (roles the policy allows, roles fuzzed)"
    assert len(CASES) == len({(t.endpoint, role) for t, role in CASES}), "a (role, form) twice"


# -- the query strings of every page (search, filters, booking pages) -----------------------------

QUERY_NAMES = [
    "q", "page", "filtre", "statut", "role", "action", "eleve", "offre", "aria_subject", "matiere",
    "coach", "type", "duree", "debut", "du", "date", "semaine", "next", "token", "email", "retour",
]  # fmt: skip
QUERY_VALUES = st.sampled_from(
    sorted(
        {*NUMBER_REFUSED, *EXOTIC_ODD, *DATE_REFUSED, *DATE_ODD, *TIME_REFUSED, *DATETIME_REFUSED}
        | {*LINE_BREAKS, *INVISIBLE, *ODD_TEXT, "N" * 5000, "MATHEMATIQUES", "60", "90", "1"}
    )
)
SLOW_OR_EXTERNAL = {"static", "health.healthz"}


# Pages of one object, on the rows of the world (streams, downloads and redirects elsewhere aside).
OBJECT_PAGES = [
    "/dashboard/sessions/{booking}",
    "/dashboard/sessions/{booking}/annuler",
    "/dashboard/sessions/{booking}/deplacer",
    "/dashboard/sessions/{booking}/seance.ics",
    "/dashboard/coach/sessions/{past_booking}/rapport",
    "/dashboard/coach/eleves/{sami}",
    "/dashboard/admin/factures/{invoice}",
    "/factures/{invoice}/pdf",
    "/factures/{invoice}/recu",
    "/dashboard/assistante/coachs/{zenon}/modifier",
    "/dashboard/assistante/docs/{document}/ligne",
    "/dashboard/eleve/aria/conversations/{conversation}",
    "/dashboard/assistante/bilans/{bilan}/espace-famille",
    "/dashboard/assistante/contacts/{contact}/espace-famille",
    "/dashboard/admin/utilisateurs/{adam_user}",
    "/dashboard/admin/utilisateurs/{adam_user}/anonymiser",
    "/dashboard/parent/enfants/{care_child}/modifier",
    "/dashboard/parent/enfants/{care_child}/retirer",
    "/dashboard/eleve/positionnement/{sami_test}",
    "/dashboard/positionnement/{sami_test}",
    "/dashboard/positionnement/{bilan_test}/bilan",
    "/dashboard/positionnement/{bilan_test}/bilan/etat",
    "/dashboard/assistante/bilans-generes/{ready_bilan}",
    "/dashboard/eleves/{sami}/positionnement",
    "/positionnement/{stage_token}",
    "/dashboard/assistante/banque-questions/{sami_item}",
    "/stages/{stage_slug}",
    "/stages/{stage_slug}/confirmation",
    "/dashboard/assistante/stages/{stage}/modifier",
    "/dashboard/eleves/{sami}/trajectoire",
    "/dashboard/eleves/{yasmine}/trajectoire/nouvelle",
    "/dashboard/parent/enfants/{yasmine}/trajectoire",
    "/messages/boite/contact/{contact}/repondre",
    "/messages/boite/bilan/{bilan}/repondre",
    "/dashboard/parent/factures/{family_invoice}/coordonnees",
]


def get_pages(app: Any, world: dict[str, Any]) -> list[str]:
    """Every page without a path parameter, and the pages of one object (their query strings
    are what is fuzzed)."""
    rules = app.url_map.iter_rules()
    plain = {
        r.rule
        for r in rules
        if "GET" in (r.methods or ()) and not r.arguments and r.endpoint not in SLOW_OR_EXTERNAL
    }
    return sorted(plain | {page.format(**world) for page in OBJECT_PAGES})


@pytest.mark.parametrize("role", sorted(ROLE_EMAILS))
def test_fuzz_query_strings_of_every_page(app, client, login, world, role: str) -> None:  # type: ignore[no-untyped-def]
    if ROLE_EMAILS[role]:
        login(client, ROLE_EMAILS[role])
    world = world | world["per_role"].get(role, {"booking": world["yasmine_booking"]})
    pages = get_pages(app, world)
    # Valid values first, so that a page gets past "which child?" to the parameter being fuzzed.
    child = {"parent": world["yasmine"], "eleve": world["sami"]}.get(role, world["sami"])
    base = {"eleve": str(child), "matiere": "MATHEMATIQUES", "coach": str(world["helios"])}
    base |= {"duree": "60", "debut": world["free_start"], "offre": "CREDITS_5", "type": "COURS_ONLINE"}

    @settings(max_examples=40, **FUZZ)
    @given(
        page=st.sampled_from(pages),
        query=st.dictionaries(st.sampled_from(QUERY_NAMES), QUERY_VALUES, min_size=1, max_size=4),
        keep=st.booleans(),
        htmx=st.booleans(),
    )
    def run(page: str, query: dict[str, str], keep: bool, htmx: bool) -> None:
        query = {**base, **query} if keep else query
        headers = {"HX-Request": "true"} if htmx else {}
        response = client.get(page, query_string=query, headers=headers)
        assert response.status_code < 500, (
            f"GET {page} as {role} answered {response.status_code} to {query!r}"
        )

    run()
