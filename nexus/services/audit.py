"""Audit lines (rule 8): written in the caller's transaction."""

from __future__ import annotations

from typing import Any

from flask import g, has_app_context
from sqlalchemy import Select, select

from nexus.extensions import db
from nexus.models.audit import AuditLog
from nexus.services.paging import Page, paginate


def record(
    action: str,
    actor_id: int | None,
    obj: Any = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit line: who (actor), what (action on obj), before/after, when (now)."""
    ip = g.get("client_ip") if has_app_context() else None
    db.session.add(
        AuditLog(
            actor_id=actor_id,
            action=action,
            object_type=getattr(obj, "__tablename__", None),  # works through current_user's proxy too
            object_id=getattr(obj, "id", None),
            before=before,
            after=after,
            ip=ip,
        )
    )


def record_changes(
    action: str, actor_id: int | None, obj: Any, before: dict[str, Any], after: dict[str, Any]
) -> bool:
    """Audit only the values that changed between two snapshots (nothing when none did);
    whether any did."""
    changed = [key for key in after if before.get(key) != after[key]]
    if changed:
        record(
            action,
            actor_id,
            obj,
            before={key: before.get(key) for key in changed},
            after={key: after[key] for key in changed},
        )
    return bool(changed)


def recent_stmt(action_prefix: str = "") -> Select[tuple[AuditLog]]:
    """Audit lines, newest first, optionally filtered by action prefix ("payment."): the log's
    page, and its CSV export."""
    stmt = select(AuditLog).order_by(AuditLog.id.desc())
    if action_prefix:
        stmt = stmt.where(AuditLog.action.startswith(action_prefix))
    return stmt


def recent(action_prefix: str = "", page: int = 1) -> Page[AuditLog]:
    return paginate(recent_stmt(action_prefix), page)
