"""The question bank for staff: items, their calibration, the answers they rest on."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("item_bank", __name__)
