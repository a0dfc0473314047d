"""Sign in, forgotten password, a new password (reset, activation), changing one's password."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from nexus.forms.base import Form
from nexus.forms.fields import EMAIL, REQUIRED, TOO_LONG


class SignInForm(Form):
    email = EmailField("E-mail", validators=[DataRequired(REQUIRED), Length(max=254, message=TOO_LONG)])
    password = PasswordField(
        "Mot de passe", validators=[DataRequired(REQUIRED), Length(max=128, message=TOO_LONG)]
    )
    remember = BooleanField("Rester connecté sur cet appareil (14 jours)")


class ForgotForm(Form):
    email = EmailField(
        "E-mail", validators=[DataRequired(REQUIRED), EMAIL, Length(max=254, message=TOO_LONG)]
    )


class NewPasswordForm(Form):
    password = PasswordField(
        "Nouveau mot de passe", validators=[DataRequired(REQUIRED), Length(max=128, message=TOO_LONG)]
    )
    confirm = PasswordField(
        "Confirmer le mot de passe",
        validators=[
            DataRequired(REQUIRED),
            EqualTo("password", "Les deux mots de passe ne correspondent pas."),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Mot de passe actuel", validators=[DataRequired(REQUIRED)])
