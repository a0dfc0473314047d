"""Group workshops' pages: staff plan them and cancel one, a coach plans their own and writes the
group report, a student (or a parent, for one child at a time) books a seat, joins the waiting
list, leaves it, or cancels their seat after reading the terms.

One blueprint, "workshops" (`common.bp`); each module adds the routes of one audience.
"""

from nexus.blueprints.workshops import coach, family, staff
from nexus.blueprints.workshops.common import bp

__all__ = ["bp", "coach", "family", "staff"]
