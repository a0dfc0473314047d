"""The base of every form: Flask-WTF's CSRF, WTForms' own French messages, no control characters."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField, TextAreaField
from wtforms.meta import DefaultMeta
from wtforms.validators import ValidationError

from nexus.text import line_problem, text_problem


class NoControlCharacters:
    """Refuse control characters: all of them on one line, all but line breaks and tabs in a text."""

    def __init__(self, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str):
            problem = text_problem(field.data) if self.multiline else line_problem(field.data)
            if problem:
                raise ValidationError(problem)


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
