"""What a family reads on its home pages: the credits left, one line per expiry day (lots expiring
the same day are summed), and the student's next sessions, each a link to its page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from nexus.extensions import db
from nexus.models.credits import LotSource
from nexus.models.scheduling import SessionStatus
from nexus.services import credits, dashboards, utcnow
from nexus.services.credits import ExpiryLine, LotView
from tests import factories
from tests.helpers import html
from tests.people import PARENT, SAMI, YASMINE


def section(page: str, title: str) -> str:
    """The HTML of the card whose heading is `title`."""
    return page.split(f"<h2>{title}</h2>", 1)[1].split("</section>", 1)[0]


def lot(remaining: str, expires_at: datetime) -> LotView:
    return LotView(1, LotSource.MANUAL, Decimal(remaining), expires_at)


# -- credits: one line per expiry day -------------------------------------------------------------


def test_lots_expiring_the_same_day_in_tunis_make_one_line():
    late_evening = datetime(2030, 4, 30, 22, 30, tzinfo=UTC)  # 23:30 in Tunis: still the 30th
    lots = [
        lot("2", datetime(2030, 4, 30, 8, 0, tzinfo=UTC)),
        lot("1", late_evening),
        lot("0.5", datetime(2030, 4, 30, 23, 30, tzinfo=UTC)),  # 00:30 on May 1st in Tunis
        lot("1.25", datetime(2030, 3, 31, 12, 0, tzinfo=UTC)),
    ]
    assert credits.by_expiry_date(lots) == [
        ExpiryLine(Decimal("1.25"), datetime(2030, 3, 31).date()),
        ExpiryLine(Decimal("3"), datetime(2030, 4, 30).date()),
        ExpiryLine(Decimal("0.5"), datetime(2030, 5, 1).date()),
    ]
    assert credits.by_expiry_date([]) == []


def test_the_family_reads_one_line_per_expiry_date(client, login):
    yasmine = factories.student(YASMINE)
    day = utcnow().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=57)
    credits.grant(yasmine.id, Decimal(2), LotSource.MANUAL, day)
    credits.grant(yasmine.id, Decimal(1), LotSource.MANUAL, day + timedelta(hours=3))
    credits.grant(yasmine.id, Decimal("1.5"), LotSource.MANUAL, day + timedelta(days=30))
    db.session.commit()
    first, second = day.strftime("%d/%m/%Y"), (day + timedelta(days=30)).strftime("%d/%m/%Y")
    expected = f"(3 jusqu'au {first} ; 1,5 jusqu'au {second})"

    card = dashboards.student_cards([yasmine])[0]
    assert [(line.remaining, line.expires_on) for line in card.lots] == [
        (Decimal(3), day.date()),
        (Decimal("1.5"), (day + timedelta(days=30)).date()),
    ]
    assert card.balance == Decimal("4.5")  # the balance is unchanged: the lots are only summed
    assert len(credits.open_lots(yasmine.id)) == 3  # and spent lot by lot as before

    login(client, PARENT)
    assert expected in html(client.get("/dashboard/parent"))
    client.post("/auth/signout")
    login(client, YASMINE)
    assert expected in html(client.get("/dashboard/eleve"))


# -- the student's next sessions ------------------------------------------------------------------


def test_the_students_home_lists_the_next_five_sessions_with_links(client, login):
    sami, yasmine = factories.student(SAMI), factories.student(YASMINE)
    helios, zenon = factories.coach("Hélios"), factories.coach("Zénon")
    soon = utcnow().replace(hour=13, minute=0, second=0, microsecond=0)
    coming = [factories.booking(sami.id, helios.id, soon + timedelta(days=d)) for d in (6, 2, 4, 3, 5, 9)]
    other_coach = factories.booking(sami.id, zenon.id, soon + timedelta(days=1, hours=2))
    tomorrow, before = soon + timedelta(days=1), soon - timedelta(days=2)
    cancelled = factories.booking(sami.id, helios.id, tomorrow, status=SessionStatus.CANCELLED)
    past = factories.booking(sami.id, helios.id, before, status=SessionStatus.COMPLETED)
    someone_else = factories.booking(yasmine.id, zenon.id, soon + timedelta(days=1))
    db.session.commit()

    login(client, SAMI)
    page = html(client.get("/dashboard/eleve"))
    listed = section(page, "Prochaines séances")
    ids = [int(i) for i in re.findall(r'href="/dashboard/sessions/(\d+)"', listed)]
    soonest = sorted([*coming, other_coach], key=lambda b: b.starts_at)[:5]
    assert ids == [b.id for b in soonest]  # five at most, soonest first
    assert not {cancelled.id, past.id, someone_else.id, coming[-1].id} & set(ids)
    assert "Mathématiques avec Zénon" in listed and "Mathématiques avec Hélios" in listed
    assert 'href="/dashboard/eleve/mes-sessions"' in listed
    assert client.get(f"/dashboard/sessions/{ids[0]}").status_code == 200


def test_a_student_without_sessions_is_told_so(client, login):
    login(client, YASMINE)
    listed = section(html(client.get("/dashboard/eleve")), "Prochaines séances")
    assert "Aucune séance programmée pour le moment." in listed
    assert "/dashboard/sessions/" not in listed
