"""/healthz: each dependency `ok`, or why not. Says nothing secret (no hosts, no keys)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from nexus import policy
from nexus.services import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@policy.access(policy.PUBLIC)
def healthz() -> Any:
    report = health.check_all()
    status = 200 if report["database"] == "ok" else 503
    response = jsonify(report)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
