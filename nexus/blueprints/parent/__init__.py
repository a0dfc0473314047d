"""The parent's pages: children (and their care: details, removal, the second parent), offers,
paying (transfer or card), payments.

One blueprint, "parent" (`common.bp`); each module adds its routes to it.
"""

from nexus.blueprints.parent import children, payments
from nexus.blueprints.parent.common import bp

__all__ = ["bp", "children", "payments"]
