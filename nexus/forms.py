"""The base of every form: Flask-WTF's CSRF, WTForms' own French messages, no control characters."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, Field, PasswordField, StringField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import Email, Length, Optional, ValidationError

ONE_LINE = "Ce champ ne peut contenir ni retour à la ligne ni caractère invisible de contrôle."
TEXT = "Ce texte contient un caractère invisible de contrôle : retirez-le."
# Bidirectional embeddings, overrides and isolates: they reorder what staff read on screen.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
TEXT_BREAKS = frozenset("\n\r\t")


def is_control(char: str) -> bool:
    """C0/C1 controls, line and paragraph separators, and bidi overrides."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS


def has_control(value: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(is_control(char) and char not in allowed for char in value)


class NoControlCharacters:
    """Refuse control characters: all of them on one line, all but line breaks and tabs in a text."""

    def __init__(self, multiline: bool = False) -> None:
        self.allowed = TEXT_BREAKS | {"\u2028", "\u2029"} if multiline else frozenset()
        self.message = TEXT if multiline else ONE_LINE

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and has_control(field.data, self.allowed):
            raise ValidationError(self.message)


class Form(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")

        def get_translations(self, form: Any) -> Any:
            # WTForms ships French messages; Flask-WTF would look for Flask-Babel instead.
            return DefaultMeta.get_translations(self, form)

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            """Every text field of every form refuses control characters (a name with a line
            break would end up in an e-mail header). Passwords are hashed, never shown: exempt."""
            field = unbound_field.bind(form=form, **options)
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                guard = NoControlCharacters(multiline=isinstance(field, TextAreaField))
                # A new list: the unbound field's list is shared by every instance of the form.
                field.validators = [*field.validators, guard]
            return field


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
