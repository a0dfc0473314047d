"""The base of every form: Flask-WTF's CSRF, with WTForms' own French messages."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms.meta import DefaultMeta


class Form(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")

        def get_translations(self, form: Any) -> Any:
            # WTForms ships French messages; Flask-WTF would look for Flask-Babel instead.
            return DefaultMeta.get_translations(self, form)
