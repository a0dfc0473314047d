"""Audit lines (rule 8): written in the caller's transaction."""

from __future__ import annotations

from typing import Any

from flask import g, has_app_context

from nexus.extensions import db
from nexus.models.audit import AuditLog


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


PAGE = 50


def recent(action_prefix: str = "", page: int = 1) -> tuple[list[AuditLog], bool]:
    """Audit lines, newest first, optionally filtered by action prefix ("payment.")."""
    from sqlalchemy import select

    stmt = select(AuditLog).order_by(AuditLog.id.desc())
    if action_prefix:
        stmt = stmt.where(AuditLog.action.startswith(action_prefix))
    rows = list(db.session.scalars(stmt.offset((page - 1) * PAGE).limit(PAGE + 1)))
    return rows[:PAGE], len(rows) > PAGE
