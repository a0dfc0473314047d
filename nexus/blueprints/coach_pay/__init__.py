"""Coach pay pages: staff review, adjust and validate the monthly statements and set the rates;
a coach reads their own statements.

One blueprint, "coach_pay" (`common.bp`); each module adds its routes to it.
"""

from nexus.blueprints.coach_pay import coach, rates, staff
from nexus.blueprints.coach_pay.common import bp

__all__ = ["bp", "coach", "rates", "staff"]
