"""The base of every form: Flask-WTF's CSRF, with WTForms' own French messages."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.meta import DefaultMeta
from wtforms.validators import Email, Length, Optional


class Form(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")

        def get_translations(self, form: Any) -> Any:
            # WTForms ships French messages; Flask-WTF would look for Flask-Babel instead.
            return DefaultMeta.get_translations(self, form)


class ActivationForm(Form):
    """The student's e-mail, for the activation link (parent's dashboard, staff table)."""

    email = EmailField(
        "E-mail de l'élève",
        validators=[
            Optional(),
            Email("Adresse e-mail invalide.", check_deliverability=False),
            Length(max=254, message="254 caractères au plus."),
        ],
    )
