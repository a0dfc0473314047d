"""Calendars: the page with one's private iCal link (copy it, subscribe with webcal://, or ask
for a new one), the feed itself, whose secret URL is the credential, and one session's .ics."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy, rows
from nexus.blueprints.sessions.common import bp, party_booking
from nexus.extensions import limiter
from nexus.models.common import Role
from nexus.services.scheduling import calendar
from nexus.web import or_404


def webcal(url: str) -> str:
    """The same feed for calendar apps: webcal:// opens the subscription dialog on a phone."""
    return "webcal://" + url.split("://", 1)[-1]


@bp.get("/dashboard/calendrier")
@policy.access(policy.FEED_USERS)
def calendar_page() -> Any:
    token = calendar.feed_token(current_user)
    url = url_for("sessions.feed", token=token, _external=True) if token else None
    return render_template("sessions/calendar.html", feed_url=url, webcal_url=webcal(url) if url else None)


@bp.post("/dashboard/calendrier")
@policy.access(policy.FEED_USERS)
def regenerate_feed() -> Any:
    """A first link at once; a new one (the old stops working) only once confirmed."""
    had_one = calendar.feed_token(current_user) is not None
    if had_one and not rows.confirmed():
        return rows.confirm_page(
            "Créer un nouveau lien d'agenda",
            url_for("sessions.regenerate_feed"),
            button="Créer un nouveau lien",
            back=url_for("sessions.calendar_page"),
            warning="L'ancien lien cessera aussitôt de fonctionner : les agendas abonnés devront "
            "l'être au nouveau.",
            danger=True,
        )
    calendar.regenerate(current_user)
    flash(
        "Nouveau lien créé : l'ancien ne fonctionne plus." if had_one else "Votre lien d'agenda est prêt.",
        "success",
    )
    return redirect(url_for("sessions.calendar_page"), code=303)


def _feed_key() -> str:
    return "feed:" + str((request.view_args or {}).get("token", ""))[:80]


@bp.get("/calendrier/<token>.ics")
@policy.access(policy.PUBLIC)
@limiter.limit("60/hour", key_func=_feed_key)
def feed(token: str) -> Any:
    """The private feed: the secret URL is the credential (no cookie, for calendar apps)."""
    user = or_404(calendar.user_for_token(token))
    response = Response(calendar.feed(user), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="nexus-reussite.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/dashboard/sessions/<int:booking_id>/seance.ics")
@policy.access(policy.SESSION_PARTIES)
def session_ics(booking_id: int) -> Any:
    """One session as an .ics file, to add it to a calendar by hand (someone else's: 404)."""
    booking = party_booking(booking_id)
    attachment = calendar.booking_attachment(booking.id, for_coach=current_user.role is Role.COACH)
    filename, content_type, data = or_404(attachment)
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
