"""Holiday stages: the public list, reservations, the staff table."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("stages", __name__)
