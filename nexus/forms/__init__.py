"""WTForms per area (auth, public, bilan, signup, family, coaches, coach, enrolment, admin,
knowledge, aria), on one base (`base.Form`), with the messages and checks several forms share
defined once in `fields`. Blueprints import their forms from here; forms import no blueprint."""

from __future__ import annotations

# Until every blueprint imports from its area module.
from nexus.forms.base import Form
from nexus.forms.family import ActivationForm
from nexus.forms.fields import Phone

__all__ = ["ActivationForm", "Form", "Phone"]
