"""Bilans for three audiences: the questionnaire, the generation's progress, the signed links, staff retry."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bilans", __name__)
