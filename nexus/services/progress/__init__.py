"""Progress a family can read: the Nexus Index (index), badges (badges), the facts both read
(activity), and the events that refresh both (events).

`events` is imported at once (every service that changes a session, a test or an ARIA
conversation calls `progress.events.changed`); the other modules load on first use, so that
importing events from the scheduling services does not import them back.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from nexus.services.progress import events

__all__ = ["activity", "badges", "events", "index"]
_LAZY = ("activity", "badges", "index")


def __getattr__(name: str) -> ModuleType:
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(name)
