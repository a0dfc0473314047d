"""Links by endpoint, from anywhere: a request, a job, a CLI command.

`internal` is the path stored in a notification ("/dashboard/sessions/12"), `external` the
absolute address put in an e-mail, built on PUBLIC_URL (a job has no request to take a host
from). Both come from the route itself, so a URL changes in one place.
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def internal(endpoint: str, **values: Any) -> str:
    """The path of an endpoint ("/dashboard/sessions/12"), with or without a request."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def external(endpoint: str, **values: Any) -> str:
    """The address of an endpoint for an e-mail: PUBLIC_URL + its path (query values included)."""
    return current_app.config["PUBLIC_URL"] + internal(endpoint, **values)
