"""What several forms share, defined once: the French messages, the name, e-mail and phone
checks, the subjects' checkboxes, the strip filter."""

from __future__ import annotations

from typing import Any

import phonenumbers
from wtforms import Field, SelectMultipleField, widgets
from wtforms.validators import Email, Length, Regexp, ValidationError

REQUIRED = "Ce champ est obligatoire."
TOO_LONG = "Ce champ ne peut pas dépasser %(max)d caractères."
CHOOSE = "Choisissez une réponse dans la liste."

NAME = Length(2, 80, "Entre 2 et 80 caractères.")
EMAIL = Email("Adresse e-mail invalide.", check_deliverability=False)
EMAIL_LENGTH = Length(max=254, message="254 caractères au plus.")

# The lenient check of the public forms (contact, bilan, coaches): digits, spaces, dots and
# dashes, kept as typed. Accounts use Phone() below, which normalises the number.
PHONE = Regexp(r"^\+?[0-9 .\-]{8,20}$", message="Numéro de téléphone invalide (8 chiffres au moins).")


class Phone:
    """A Tunisian number (8 digits, with or without +216) or an international one (+ and the
    country code); the field's data becomes its international form, e.g. "+216 22 333 444"."""

    message = "Numéro de téléphone invalide : 8 chiffres pour la Tunisie, ou +indicatif pour l'étranger."

    def __call__(self, form: Any, field: Field) -> None:
        raw = (field.data or "").strip()
        if not raw:
            return
        if len(raw) > 32:
            raise ValidationError(self.message)
        try:
            number = phonenumbers.parse(raw, "TN")
        except phonenumbers.NumberParseException:
            raise ValidationError(self.message) from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(self.message)
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def strip(value: Any) -> Any:
    """A filter: the text without its surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


class SubjectsField(SelectMultipleField):
    """Checkboxes, one per subject."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()
