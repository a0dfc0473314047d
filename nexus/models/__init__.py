"""All models, imported once so that SQLAlchemy and Alembic see every table."""

from nexus.models import (  # noqa: F401
    aria,
    assessments,
    audit,
    billing,
    billing_care,
    catalog,
    coach_pay,
    credits,
    diagnostics,
    family,
    figures,
    identity,
    knowledge,
    messaging,
    notifications,
    operations,
    progress,
    scheduling,
    stages,
    vault,
    workshops,
)
from nexus.models.common import Grade, Role, Subject  # noqa: F401
