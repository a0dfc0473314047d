"""Ids beyond what the database holds, or not numbers at all, are "not found", never a 500."""

import pytest

from tests.people import ADMIN, ASSISTANTE, PARENT

HUGE = "9" * 25
ENORMOUS = "9" * 5000


@pytest.mark.parametrize("account", [PARENT, ADMIN])
@pytest.mark.parametrize(
    "path",
    [
        f"/factures/{HUGE}/pdf",
        f"/documents/{HUGE}",
        f"/dashboard/parent/paiement?offre=HYBRIDE&eleve={HUGE}",
        f"/dashboard/parent/paiement?offre=HYBRIDE&eleve={ENORMOUS}",
        f"/dashboard/admin/factures/{HUGE}",
        f"/dashboard/admin/utilisateurs?page={ENORMOUS}",
        f"/dashboard/admin/factures?page={ENORMOUS}",
        f"/dashboard/assistante/contacts?page={ENORMOUS}",
    ],
)
def test_gets_never_fail(client, login, account, path):
    login(client, account)
    assert client.get(path).status_code in (200, 403, 404)


@pytest.mark.parametrize(
    ("account", "path", "data"),
    [
        (PARENT, "/dashboard/parent/credits/demande", {"eleve": HUGE, "amount": "2"}),
        (
            PARENT,
            "/dashboard/parent/paiement/virement",
            {"eleve": ENORMOUS, "offre": "HYBRIDE"},
        ),
        (
            ASSISTANTE,
            "/dashboard/assistante/credits/ajustement",
            {"eleve": HUGE, "amount": "1"},
        ),
        (ASSISTANTE, f"/dashboard/assistante/paiements/{HUGE}/valider", {"confirm": "1"}),
        (ADMIN, f"/dashboard/admin/utilisateurs/{HUGE}/desactiver", {}),
    ],
)
def test_posts_never_fail(client, login, account, path, data):
    login(client, account)
    assert client.post(path, data=data).status_code in (303, 404, 422)



@pytest.mark.parametrize("digits", ["٣", "３", "²", "1٣", "߃"])
def test_ids_in_other_scripts_digits_match_no_route(app, digits):
    """int() reads '٣' as 3: an id in a URL takes ASCII digits only, like every other number."""
    from werkzeug.exceptions import NotFound

    urls = app.url_map.bind("localhost")
    assert urls.match("/dashboard/sessions/3")[1] == {"booking_id": 3}
    with pytest.raises(NotFound):
        urls.match(f"/dashboard/sessions/{digits}")
