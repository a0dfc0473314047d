"""CSV exports of the staff tables (issue 13): the rows of the current filter, in French
conventions (BOM, ';', decimal comma, Tunis dates), streamed, audited once, for the table's
own roles only."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.models.billing import Invoice, InvoiceStatus, Payment, PaymentMethod, PaymentStatus
from nexus.models.common import Grade, Subject
from nexus.models.credits import LotSource
from nexus.models.diagnostics import BilanRequest, BilanStatus
from nexus.models.identity import User
from nexus.models.notifications import ContactMessage
from nexus.models.scheduling import SessionStatus
from nexus.services import billing, credits, exports, utcnow
from tests import factories
from tests.people import ADMIN, ASSISTANTE, COACH, HX, PARENT, PARENT2, SAMI, YASMINE

# Each table's download, and who may take it besides the admin.
URLS = {
    "paiements": "/dashboard/assistante/paiements.csv",
    "paiements-carte": "/dashboard/assistante/paiements/cartes.csv",
    "factures": "/dashboard/admin/factures.csv",
    "eleves": "/dashboard/assistante/eleves.csv",
    "seances": "/dashboard/assistante/seances.csv",
    "credits": "/dashboard/assistante/credits.csv",
    "reservations-stages": "/dashboard/assistante/stages/reservations.csv",
    "demandes-bilan": "/dashboard/assistante/bilans.csv",
    "contacts": "/dashboard/assistante/contacts.csv",
    "journal-audit": "/dashboard/admin/audit.csv",
}
STAFF_TABLES = [name for name in URLS if name != "journal-audit"]
NOW_IN_TUNIS = "04/03/2030 09:00"  # the frozen clock, 2030-03-04 08:00 UTC, in Tunis (UTC+1)


def table(response: Any) -> list[list[str]]:
    """The CSV as a spreadsheet reads it: UTF-8 with a BOM, ';' between cells."""
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def column(rows: list[list[str]], name: str) -> list[str]:
    index = rows[0].index(name)
    return [row[index] for row in rows[1:]]


def export_lines() -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == "export.csv")))


def user_id(email: str) -> int:
    return db.session.scalar(select(User.id).where(User.email == email))


# -- every table ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(URLS))
def test_each_table_downloads_in_french_with_one_audit_line(client, login, name):
    login(client, ADMIN)
    response = client.get(URLS[name] + "?q=&page=3")
    assert response.is_streamed
    rows = table(response)
    assert rows[0] == list(exports.TABLES[name].header)
    assert "no-store" in response.headers["Cache-Control"]
    assert f"{name}-2030-03-04.csv" in response.headers["Content-Disposition"]
    [line] = export_lines()
    assert line.actor_id == user_id(ADMIN)
    assert line.after is not None and line.after["table"] == name
    assert "q" not in line.after["filters"] and "page" not in line.after["filters"]
    assert line.action_label == "Export CSV d'un tableau"


@pytest.mark.parametrize("email", [PARENT, COACH, YASMINE])
def test_other_roles_are_refused_every_export(client, login, email):
    login(client, email)
    for url in URLS.values():
        assert client.get(url).status_code == 403, url
    assert export_lines() == []


def test_the_assistante_takes_every_table_but_the_audit_log(client, login):
    login(client, ASSISTANTE)
    for name in STAFF_TABLES:
        assert client.get(URLS[name]).status_code == 200, name
    assert client.get(URLS["journal-audit"]).status_code == 403
    assert sorted(line.after["table"] for line in export_lines()) == sorted(STAFF_TABLES)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in URLS.values():
        response = client.get(url)
        assert response.status_code == 302 and "/auth/signin" in response.headers["Location"]


HOSTILE = {
    "q": "%_\\'\" OR 1=1 --" + "é" * 200,
    "filtre": "DROP",
    "statut": "PAYEE",
    "stage": "-1",
    "carte": "toutes",
    "action": "%",
    "page": "abc",
}


@pytest.mark.parametrize("name", list(URLS))
def test_hostile_query_strings_give_a_csv_of_the_page_defaults(client, login, name):
    login(client, ADMIN)
    rows = table(client.get(URLS[name], query_string=HOSTILE))
    assert rows[0] == list(exports.TABLES[name].header)
    [line] = export_lines()
    filters = line.after["filters"]
    assert len(filters.get("q", "")) <= 100  # cut as the page cuts it
    assert filters.get("filtre") in (None, "a-traiter", "tous", "actives")  # an unknown choice: the default
    assert "statut" not in filters and "stage" not in filters


# -- payments ---------------------------------------------------------------------------------


@pytest.fixture
def transfers() -> tuple[Payment, Payment]:
    nadia = db.session.get(User, user_id(PARENT))
    hichem = db.session.get(User, user_id(PARENT2))
    mine = billing.declare_transfer(
        nadia, billing.build_order(nadia, factories.student(YASMINE).id, "HYBRIDE", "NSI")
    )
    other = billing.declare_transfer(
        hichem, billing.build_order(hichem, factories.student(SAMI).id, "CREDITS_5", None)
    )
    mine.amount_millimes = 1_234_500
    db.session.commit()
    return mine, other


def test_payments_follow_the_search_with_french_amounts_and_dates(client, login, transfers):
    mine, other = transfers
    login(client, ASSISTANTE)
    rows = table(client.get(f"/dashboard/assistante/paiements.csv?q={mine.reference.lower()}"))
    assert column(rows, "Référence") == [mine.reference]  # the other family's transfer left out
    [row] = rows[1:]
    assert row[rows[0].index("Montant (TND)")] == "1234,500"
    assert row[rows[0].index("Déclaré le")] == NOW_IN_TUNIS
    assert row[rows[0].index("Offre")] == "Hybride" and row[rows[0].index("Statut")] == "En attente"
    assert row[rows[0].index("Élève")] == "Yasmine Ben Ali"
    [line] = export_lines()
    assert line.after == {"table": "paiements", "filters": {"q": mine.reference.lower()}}
    everything = table(client.get("/dashboard/assistante/paiements.csv"))
    assert sorted(column(everything, "Référence")) == sorted([mine.reference, other.reference])


def test_a_decided_transfer_leaves_the_desk_and_its_export(client, login, transfers):
    mine, other = transfers
    billing.approve(other.id, db.session.get(User, user_id(ADMIN)))
    db.session.commit()
    login(client, ADMIN)
    assert column(table(client.get("/dashboard/assistante/paiements.csv")), "Référence") == [mine.reference]


def test_card_payments_follow_the_card_filter(client, login):
    hichem = db.session.get(User, user_id(PARENT2))
    order = billing.build_order(hichem, factories.student(SAMI).id, "CREDITS_5", None)
    waiting = billing.create_pending(hichem, order, PaymentMethod.CLICTOPAY, billing.new_reference())
    refused = billing.create_pending(
        hichem,
        billing.build_order(hichem, factories.student(SAMI).id, "CREDITS_10", None),
        PaymentMethod.CLICTOPAY,
        billing.new_reference(),
    )
    assert waiting is not None and refused is not None
    refused.status = PaymentStatus.FAILED
    db.session.commit()
    login(client, ASSISTANTE)
    pending = table(client.get("/dashboard/assistante/paiements/cartes.csv"))  # pending by default
    assert column(pending, "Référence") == [waiting.reference]
    assert column(pending, "Montant (TND)") == [f"{waiting.amount_millimes // 1000},000"]
    assert column(pending, "Commencé le") == [NOW_IN_TUNIS]
    failed = table(client.get("/dashboard/assistante/paiements/cartes.csv?carte=refuses"))
    assert column(failed, "Référence") == [refused.reference]
    assert [line.after["filters"] for line in export_lines()] == [
        {"carte": "en-attente"},
        {"carte": "refuses"},
    ]


# -- invoices ---------------------------------------------------------------------------------


def test_invoices_follow_status_and_search(client, login, transfers):
    _, other = transfers
    admin = db.session.get(User, user_id(ADMIN))
    billing.approve(other.id, admin)
    db.session.commit()
    paid = db.session.scalar(select(Invoice).where(Invoice.payment_id == other.id))
    assert paid is not None
    login(client, ASSISTANTE)
    rows = table(client.get(f"/dashboard/admin/factures.csv?statut=PAID&q={paid.number}"))
    assert column(rows, "Numéro") == [paid.number]
    [row] = rows[1:]
    total = row[rows[0].index("Total (TND)")]
    assert total == f"{paid.total_millimes // 1000},{paid.total_millimes % 1000:03d}" and "," in total
    assert row[rows[0].index("Statut")] == InvoiceStatus.PAID.label
    assert row[rows[0].index("Émise le")] == NOW_IN_TUNIS
    drafts = table(client.get(f"/dashboard/admin/factures.csv?statut=DRAFT&q={paid.number}"))
    assert drafts[1:] == []  # the paid invoice is not a draft
    assert [line.after["filters"] for line in export_lines()] == [
        {"statut": "PAID", "q": paid.number},
        {"statut": "DRAFT", "q": paid.number},
    ]


# -- students and balances --------------------------------------------------------------------


def test_students_follow_the_filter_and_carry_their_balance(client, login, sami):
    login(client, ASSISTANTE)
    rows = table(client.get("/dashboard/assistante/eleves.csv?filtre=actives&q=ben ali"))
    names = column(rows, "Élève")
    assert "Yasmine Ben Ali" in names and "Adam Ben Ali" not in names  # Adam is not activated
    assert "Sami" not in " ".join(names)  # not « Ben Ali »
    to_activate = table(client.get("/dashboard/assistante/eleves.csv?filtre=a-activer"))
    assert "Adam Ben Ali" in column(to_activate, "Élève")
    assert set(column(to_activate, "Compte activé")) == {"non"}
    everyone = table(client.get("/dashboard/assistante/eleves.csv"))
    row = everyone[1 + column(everyone, "E-mail de l'élève").index(SAMI)]
    balance = credits.balance(sami.id)
    assert balance > 0
    assert row[everyone[0].index("Solde de crédits")] == format(balance, "f").replace(".", ",")
    adam = everyone[1 + column(everyone, "Élève").index("Adam Ben Ali")]
    assert adam[everyone[0].index("Solde de crédits")] == "0,00"


# -- sessions ---------------------------------------------------------------------------------


def test_sessions_are_the_coming_weeks_holding_a_slot(client, login, sami, helios):
    start = datetime(2030, 3, 6, 14, 0, tzinfo=utcnow().tzinfo)
    coming = factories.booking(sami.id, helios.id, start)
    factories.booking(sami.id, helios.id, start + timedelta(days=1), status=SessionStatus.CANCELLED)
    factories.booking(sami.id, helios.id, start + timedelta(days=40))  # beyond the 31 days
    db.session.commit()
    login(client, ASSISTANTE)
    rows = table(client.get("/dashboard/assistante/seances.csv"))
    mine = [row for row in rows[1:] if row[rows[0].index("Élève")] == "Sami Gharbi"]
    assert [row[0] for row in mine] == ["06/03/2030 15:00"]
    [row] = mine
    assert row[rows[0].index("Coach")] == "Hélios" and row[rows[0].index("Crédits")] == "1,00"
    assert row[rows[0].index("Statut")] == coming.status.label


# -- credit ledger ----------------------------------------------------------------------------


def test_the_ledger_holds_the_searched_students_entries(client, login, sami, yasmine):
    credits.manual_grant(yasmine.id, Decimal("2.5"), "Geste commercial", user_id(ADMIN))
    db.session.commit()
    login(client, ASSISTANTE)
    rows = table(client.get("/dashboard/assistante/credits.csv?q=yasmine"))
    assert set(column(rows, "Élève")) == {"Yasmine Ben Ali"}  # Sami's entries left out
    [grant] = rows[1:]
    assert grant[rows[0].index("Crédits")] == "2,50"
    assert grant[rows[0].index("Origine du lot")] == LotSource.MANUAL.label
    assert grant[rows[0].index("Date")] == NOW_IN_TUNIS
    everyone = table(client.get("/dashboard/assistante/credits.csv"))
    assert "Sami Gharbi" in column(everyone, "Élève")


# -- bilan requests and contacts --------------------------------------------------------------


def bilan_request(parent_first_name: str, status: BilanStatus = BilanStatus.RECEIVED) -> BilanRequest:
    row = BilanRequest(
        parent_first_name=parent_first_name,
        parent_last_name="Ayari",
        parent_email="sonia@example.tn",
        parent_phone="+216 98 765 432",
        student_first_name="Rania",
        student_last_name="Ayari",
        grade=Grade.PREMIERE,
        subjects=[Subject.MATHEMATIQUES.value, Subject.SVT.value],
        status=status,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_bilan_requests_follow_the_status_and_never_hold_a_formula(client, login):
    bilan_request('=HYPERLINK("http://x")')
    bilan_request("Closed", BilanStatus.CLOSED)
    login(client, ASSISTANTE)
    rows = table(client.get("/dashboard/assistante/bilans.csv?q=ayari"))  # « à traiter » by default
    assert column(rows, "Parent") == ['\'=HYPERLINK("http://x") Ayari']
    assert column(rows, "Téléphone du parent") == ["'+216 98 765 432"]  # text, not a sum
    assert column(rows, "Matières") == ["Mathématiques, SVT"]
    assert column(rows, "Reçue le") == [NOW_IN_TUNIS]
    closed = table(client.get("/dashboard/assistante/bilans.csv?q=ayari&filtre=CLOSED"))
    assert column(closed, "Parent") == ["Closed Ayari"]


def test_contacts_follow_the_state_and_search(client, login):
    db.session.add_all(
        [
            ContactMessage(name="@SUM(A1)", email="a@example.tn", topic="inscription", message="-2+3"),
            ContactMessage(
                name="Déjà traité",
                email="b@example.tn",
                topic="inscription",
                message="ok",
                handled_at=utcnow(),
            ),
        ]
    )
    db.session.commit()
    login(client, ASSISTANTE)
    rows = table(client.get("/dashboard/assistante/contacts.csv?q=example.tn"))
    assert column(rows, "Nom") == ["'@SUM(A1)"] and column(rows, "Message") == ["'-2+3"]
    handled = table(client.get("/dashboard/assistante/contacts.csv?filtre=traites&q=example.tn"))
    assert column(handled, "Nom") == ["Déjà traité"]
    assert column(handled, "Traité") == ["oui"] and column(handled, "Traité le") == [NOW_IN_TUNIS]


# -- stage reservations and the audit log -----------------------------------------------------


def test_the_audit_log_follows_the_action_type_and_is_the_admins(client, login):
    login(client, ADMIN)  # a sign-in line
    rows = table(client.get("/dashboard/admin/audit.csv?action=export."))
    assert column(rows, "Code de l'action") == ["export.csv"]  # its own line, and no sign-in
    [row] = rows[1:]
    assert row[rows[0].index("Auteur")] != "Système" and row[rows[0].index("E-mail de l'auteur")] == ADMIN
    assert "Tableau : journal-audit" in row[rows[0].index("Changements")]
    assert "Type d'action : export." in row[rows[0].index("Changements")]
    everything = table(client.get("/dashboard/admin/audit.csv"))
    assert "auth.signin" in column(everything, "Code de l'action")


def test_the_stage_reservations_export_is_audited(client, login):
    login(client, ASSISTANTE)
    table(client.get("/dashboard/assistante/stages/reservations.csv?filtre=toutes&stage=12&q=x"))
    [line] = export_lines()
    assert line.after == {
        "table": "reservations-stages",
        "filters": {"filtre": "toutes", "stage": 12, "q": "x"},
    }


# -- the links on the pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("/dashboard/assistante/contacts", "?filtre=traites&amp;q=ab"),
        ("/dashboard/assistante/bilans", "?filtre=toutes"),
        ("/dashboard/assistante/eleves", "?q=ben"),
        ("/dashboard/assistante/paiements", "?q=nx"),
        ("/dashboard/admin/factures", "?statut=PAID"),
        ("/dashboard/assistante/credits", "?q=sami"),
        ("/dashboard/assistante/stages/reservations", "?filtre=toutes"),
    ],
)
def test_each_table_links_its_download_with_the_current_filter(client, login, page, query):
    login(client, ADMIN)
    asked = query.replace("&amp;", "&") + "&page=2"
    for headers in ({}, HX):  # the page, and the fragment a search refreshes
        html = client.get(page + asked, headers=headers).get_data(as_text=True)
        assert f'href="{page}.csv{query}"' in html, headers  # not its page number
    assert export_lines() == []  # a link is not an export


def test_the_sessions_audit_and_card_tables_link_their_download(client, login):
    login(client, ADMIN)
    cards = client.get(
        "/dashboard/assistante/paiements?carte=refuses", headers=HX | {"HX-Target": "card-payments"}
    )
    assert 'href="/dashboard/assistante/paiements/cartes.csv?carte=refuses"' in cards.get_data(as_text=True)
    assert 'href="/dashboard/assistante/seances.csv"' in client.get("/dashboard/assistante/seances").get_data(
        as_text=True
    )
    page = client.get("/dashboard/admin/audit?action=payment.").get_data(as_text=True)
    assert 'href="/dashboard/admin/audit.csv?action=payment."' in page


# -- any size ---------------------------------------------------------------------------------

MANY = 5000


def test_many_rows_are_streamed_in_chunks(client, login):
    db.session.execute(
        text(
            "INSERT INTO contact_messages (name, email, topic, message, created_at)"
            " SELECT 'Masse ' || n, 'masse' || n || '@example.tn', 'inscription', 'Bonjour', now()"
            " FROM generate_series(1, :many) AS n"
        ),
        {"many": MANY},
    )
    db.session.commit()
    login(client, ASSISTANTE)
    response = client.get("/dashboard/assistante/contacts.csv?q=masse")
    assert response.is_streamed
    sent = iter(response.response)
    pieces = [next(sent), next(sent)]  # the header, then the first rows
    # Meanwhile the rows wait in a server-side cursor (this test shares the app's connection).
    assert db.session.scalar(text("SELECT count(*) FROM pg_cursors WHERE NOT is_holdable")) == 1
    pieces += list(sent)  # what the server sends, piece by piece
    assert len(pieces) > MANY // 1000  # written as the rows come, not built whole
    body = b"".join(piece if isinstance(piece, bytes) else piece.encode() for piece in pieces)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert len(rows) == MANY + 1
    assert len({row[1] for row in rows[1:]}) == MANY
    assert db.session.scalar(select(func.count()).where(AuditLog.action == "export.csv")) == 1
