"""Progress a family can read: the Nexus Index (index), badges (badges), and the events that
refresh both (events)."""

from nexus.services.progress import events

__all__ = ["events"]
