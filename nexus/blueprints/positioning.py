"""The positioning tests: taking them, their results (student, parents, coaches, staff)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("positioning", __name__)
