"""Sessions for families and staff: book (subject → coach → slot → confirm), my sessions, one
session's page (video room, report, cancel, reschedule), calendar feeds, the staff's list.

A student books for themself, a parent for their own children: someone else's child or session
is simply not found (404). Every form works without JavaScript; htmx boosts navigation, and the
staff's cancel button swaps its table row in place.

One blueprint, "sessions" (`common.bp`); each module adds its routes to it.
"""

from nexus.blueprints.sessions import booking, feeds, lists, rescheduling, session
from nexus.blueprints.sessions.common import bp

__all__ = ["booking", "bp", "feeds", "lists", "rescheduling", "session"]
