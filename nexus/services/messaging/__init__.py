"""Messaging between families, coaches and the centre: threads (threads.py), who may write to
whom and read what (access.py), attachments (attachments.py), e-mail digests (digest.py)."""

from __future__ import annotations

from nexus.models.identity import User
from nexus.services.messaging import access
from nexus.services.messaging.threads import unread_count as _unread_count
from nexus.services.messaging.threads import unread_query

__all__ = ["access", "unread_count", "unread_query"]


def unread_count(user: User) -> int:
    """Threads with a message this user has not read yet (for the bell and the menu)."""
    return _unread_count(user)
