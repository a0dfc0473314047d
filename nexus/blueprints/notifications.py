"""The in-app bell: list, mark one read, mark all read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from nexus import policy
from nexus.services import notifications
from nexus.web import is_fragment_request, or_404

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def _list_response() -> Any:
    items = notifications.recent(current_user.id)
    count = notifications.unread_count(current_user.id)
    template = "notifications/_list.html" if is_fragment_request() else "notifications/index.html"
    return render_template(template, items=items, unread_count=count)


@bp.get("")
@policy.access(policy.SIGNED_IN)
def index() -> Any:
    return _list_response()


@bp.post("/<int:notification_id>/lu")
@policy.access(policy.SIGNED_IN)
def mark_read(notification_id: int) -> Any:
    note = or_404(notifications.mark_read(current_user.id, notification_id))
    if is_fragment_request():
        return _list_response()
    if note.link:
        return redirect(note.link, code=303)
    return redirect(url_for("notifications.index"), code=303)


@bp.post("/tout-lu")
@policy.access(policy.SIGNED_IN)
def mark_all_read() -> Any:
    notifications.mark_all_read(current_user.id)
    if is_fragment_request():
        return _list_response()
    return redirect(url_for("notifications.index"), code=303)
