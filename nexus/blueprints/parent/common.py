"""The parent's blueprint, shared by the modules that add its routes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("parent", __name__, url_prefix="/dashboard/parent")
