"""Links by endpoint work without a request (jobs, CLI), and e-mailed ones are absolute."""

from __future__ import annotations

from flask import Flask

from nexus import links


def test_a_path_from_its_endpoint_without_a_request(app: Flask) -> None:
    with app.app_context():
        assert links.internal("sessions.detail", booking_id=12) == "/dashboard/sessions/12"
        assert links.internal("parent.children") == "/dashboard/parent/enfants"


def test_an_emailed_address_is_absolute_and_keeps_its_query(app: Flask) -> None:
    with app.app_context():
        url = links.external("auth.activate", token="abc")
    assert url == f"{app.config['PUBLIC_URL']}/auth/activate?token=abc"
