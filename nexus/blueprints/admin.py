"""Admin tables: accounts (search, deactivate/reactivate inline) and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from nexus import policy
from nexus.extensions import db
from nexus.models.billing import SubscriptionStatus
from nexus.models.common import Role
from nexus.models.identity import User
from nexus.services import ServiceError, audit, billing, identity
from nexus.web import is_fragment_request, page_arg

bp = Blueprint("admin", __name__, url_prefix="/dashboard/admin")


@bp.get("/utilisateurs")
@policy.access(policy.ADMIN)
def users() -> Any:
    query = request.args.get("q", "")[:100]
    role = Role.__members__.get(request.args.get("role", ""))
    page = identity.search_users(query, role, page_arg())
    template = "admin/_users_table.html" if is_fragment_request() else "admin/users.html"
    return render_template(template, page=page, query=query, role=role, roles=list(Role))


@bp.post("/utilisateurs/<int:user_id>/<any(activer, desactiver):action>")
@policy.access(policy.ADMIN)
def toggle_active(user_id: int, action: str) -> Any:
    error = None
    try:
        user = identity.set_active(user_id, action == "activer", current_user)
    except LookupError:
        abort(404)
    except ServiceError as err:
        db.session.rollback()
        error = err.message
        user = db.get_or_404(User, user_id)
    else:
        db.session.commit()
    if is_fragment_request():
        status = 422 if error else 200
        return render_template("admin/_user_row.html", user=user, error=error), status
    if error:
        flash(error, "error")
    else:
        flash(f"Compte de {user.full_name} {'réactivé' if user.is_active else 'désactivé'}.", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.get("/audit")
@policy.access(policy.ADMIN)
def audit_log() -> Any:
    prefix = request.args.get("action", "")[:40]
    return render_template("admin/audit.html", page=audit.recent(prefix, page_arg()), prefix=prefix)


@bp.get("/abonnements")
@policy.access(policy.ADMIN)
def subscriptions() -> Any:
    status = SubscriptionStatus.__members__.get(request.args.get("statut", "ACTIVE"))
    rows = billing.subscriptions(status)
    return render_template(
        "admin/subscriptions.html", rows=rows, status=status, statuses=list(SubscriptionStatus)
    )
