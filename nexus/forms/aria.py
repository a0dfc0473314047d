"""A student's question to ARIA, and the feedback on an answer."""

from __future__ import annotations

from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from nexus.forms.base import Form
from nexus.services import aria


class AskForm(Form):
    # No maxlength: a pasted long text would be cut silently; the server refuses it in French instead.
    question = TextAreaField("Votre question", render_kw={"rows": 4})
    subject = SelectField("Matière", choices=[], validate_choice=False)
    conversation = HiddenField()


class FeedbackForm(Form):
    comment = TextAreaField(
        "Un commentaire ? (facultatif)",
        validators=[Optional(), Length(max=aria.MAX_COMMENT, message="1000 caractères au plus.")],
        render_kw={"rows": 2},  # no maxlength: a pasted comment is refused in French, never cut
    )
