"""Calendar feeds: the page with one's private iCal link (and a new link on demand), and the
feed itself, whose secret URL is the credential."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.blueprints.sessions.common import bp
from nexus.extensions import limiter
from nexus.services.scheduling import calendar


@bp.get("/dashboard/calendrier")
@policy.access(policy.FEED_USERS)
def calendar_page() -> Any:
    token = calendar.feed_token(current_user)
    url = url_for("sessions.feed", token=token, _external=True) if token else None
    return render_template("sessions/calendar.html", feed_url=url)


@bp.post("/dashboard/calendrier")
@policy.access(policy.FEED_USERS)
def regenerate_feed() -> Any:
    had_one = calendar.feed_token(current_user) is not None
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
    user = calendar.user_for_token(token)
    if user is None:
        abort(404)
    response = Response(calendar.feed(user), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="nexus-reussite.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
