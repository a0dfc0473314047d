"""WTForms per area (auth, public, bilan, signup, parent, coaches, coach, enrolment, admin,
knowledge, aria), on one base (`base.Form`), with the messages and checks several forms share
defined once in `fields` and the children's groups of a family in `family`. Blueprints import
their forms from these modules; forms import no blueprint."""
