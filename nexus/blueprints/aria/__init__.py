"""ARIA pages: the student's chat (`chat`: SSE answers, the consent notice), parents' and coaches'
read-only views, staff statistics, and the staff's list of safety alerts (`alerts`).

One blueprint, "aria" (`chat.bp`); each module adds its routes to it.
"""

from nexus.blueprints.aria import alerts, chat
from nexus.blueprints.aria.chat import bp

__all__ = ["alerts", "bp", "chat"]
