"""Invoicing forms: the centre's identity and mentions (admin), a family's invoice-details request."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, Field, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from nexus.forms.base import Form
from nexus.forms.fields import EMAIL, EMAIL_LENGTH, Phone, strip
from nexus.numbers import parse_tnd
from nexus.services import ServiceError, centre_settings


def _tax_id(form: Form, field: Field) -> None:
    """A matricule fiscal, typed with or without slashes; kept normalised (1234567A/A/M/000)."""
    try:
        field.data = centre_settings.normalise_tax_id(field.data)
    except ServiceError as err:
        raise StopValidation(err.message) from None


def _rne(form: Form, field: Field) -> None:
    try:
        field.data = centre_settings.normalise_rne(field.data)
    except ServiceError as err:
        raise StopValidation(err.message) from None


def _stamp(form: Form, field: Field) -> None:
    amount = parse_tnd(field.data)
    if amount is None or amount > centre_settings.MAX_STAMP_MILLIMES:
        raise StopValidation("Un montant en TND de 0 à 100, par exemple 1,000.")


def dinars(millimes: int) -> str:
    """1000 → '1,000' (the stamp as typed back into the form, millimes shown)."""
    whole, rest = divmod(millimes, 1000)
    return f"{whole},{rest:03d}"


class CentreSettingsForm(Form):
    legal_name = StringField(
        "Raison sociale",
        filters=[strip],
        validators=[
            DataRequired("Indiquez la raison sociale du centre."),
            Length(2, 160, "Entre 2 et 160 caractères."),
        ],
    )
    address = StringField(
        "Adresse du siège",
        filters=[strip],
        validators=[
            DataRequired("Indiquez l'adresse du centre."),
            Length(5, 300, "Entre 5 et 300 caractères."),
        ],
    )
    tax_id = StringField("Matricule fiscal", filters=[strip], validators=[Optional(), _tax_id])
    rne = StringField("Identifiant unique au RNE", filters=[strip], validators=[Optional(), _rne])
    phone = TelField("Téléphone", filters=[strip], validators=[Optional(), Phone()])
    email = EmailField("E-mail", filters=[strip], validators=[Optional(), EMAIL, EMAIL_LENGTH])
    stamp_applies = BooleanField("Ajouter le droit de timbre à chaque nouvelle facture")
    stamp = StringField(
        "Montant du droit de timbre (TND)", filters=[strip], validators=[_stamp], default="1,000"
    )
    mentions = TextAreaField(
        "Mentions en pied de facture (facultatif)",
        filters=[strip],
        validators=[Optional(), Length(max=1000, message="1 000 caractères au plus.")],
    )

    def fill_from(self, settings: centre_settings.Settings) -> None:
        for name in ("legal_name", "address", "tax_id", "rne", "phone", "email", "stamp_applies", "mentions"):
            getattr(self, name).data = getattr(settings, name)
        self.stamp.data = dinars(settings.stamp_millimes)

    def values(self) -> centre_settings.Settings:
        return centre_settings.Settings(
            legal_name=self.legal_name.data or "",
            address=self.address.data or "",
            tax_id=self.tax_id.data or None,
            rne=self.rne.data or None,
            phone=self.phone.data or None,
            email=(self.email.data or "").lower() or None,
            stamp_applies=bool(self.stamp_applies.data),
            stamp_millimes=parse_tnd(self.stamp.data) or 0,
            mentions=self.mentions.data or None,
        )


class DetailsRequestForm(Form):
    """A family asks that its invoice name a company (its name and matricule fiscal)."""

    company_name = StringField(
        "Raison sociale de l'entreprise",
        filters=[strip],
        validators=[
            DataRequired("Indiquez le nom de l'entreprise."),
            Length(2, 160, "Entre 2 et 160 caractères."),
        ],
    )
    tax_id = StringField(
        "Matricule fiscal de l'entreprise",
        filters=[strip],
        validators=[DataRequired("Indiquez le matricule fiscal de l'entreprise."), _tax_id],
    )
    address = StringField(
        "Adresse de l'entreprise (facultatif)",
        filters=[strip],
        validators=[Optional(), Length(max=300, message="300 caractères au plus.")],
    )
