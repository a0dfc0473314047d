"""The admin's correction of a subscription: its status, its end date and the reason."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from nexus.forms.base import Form
from nexus.forms.fields import CHOOSE, REQUIRED, strip
from nexus.models.billing import SubscriptionStatus


class SubscriptionEditForm(Form):
    status = SelectField(
        "Statut",
        choices=SubscriptionStatus.choices(),
        validate_choice=False,
        validators=[DataRequired(CHOOSE), AnyOf([s.value for s in SubscriptionStatus], CHOOSE)],
    )
    ends_on = DateField("Fin de la période en cours", validators=[DataRequired("Indiquez une date valide.")])
    reason = StringField(
        "Motif",
        description="Gardé dans le journal d'audit avec l'avant et l'après, 5 à 500 caractères.",
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(5, 500, "Entre 5 et 500 caractères.")],
    )
