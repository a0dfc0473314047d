"""Forms asked one group of questions at a time (/bilan-gratuit, /inscription), without JavaScript:
every step is a plain POST carrying the other steps' answers as hidden fields."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from limits import RateLimitItem

from nexus.extensions import client_ip, limiter

log = logging.getLogger(__name__)


def posted_step(last: int) -> int:
    """The step the form was shown at (1..last), whatever was posted."""
    raw = request.form.get("step", "1")[:2]
    return min(max(int(raw), 1), last) if raw.isascii() and raw.isdecimal() else 1


def navigation(last: int) -> int | None:
    """The step asked for by "Retour" or "Modifier" (never forward), or None to go on."""
    shown = posted_step(last)
    if request.form.get("action") == "retour":
        return max(shown - 1, 1)
    target = request.form.get("modifier", "")[:2]
    if target.isascii() and target.isdecimal() and 1 <= int(target) < shown:
        return int(target)
    return None


def advance(
    form: Any, last: int, limit: RateLimitItem, scope: str, too_many: str
) -> tuple[int, int, str | None] | None:
    """After "Continuer": the step to show, its status and notice — the first step with an error
    (422), the next one, or the last again when too many were sent (429); None: send the form.
    The form gives first_invalid_step(up_to)."""
    step = posted_step(last)
    failed = form.first_invalid_step(step)
    if failed is not None:
        return failed, 422, None
    if step < last:
        return step + 1, 200, None
    if not send_allowed(limit, scope):
        return last, 429, too_many
    return None


def send_allowed(limit: RateLimitItem, scope: str) -> bool:
    """At most `limit` forms sent per address; moving between steps is free.

    Checked in the view rather than by a route decorator so that a refusal keeps the answers on
    screen.
    """
    if not limiter.enabled:
        return True
    try:
        return limiter.limiter.hit(limit, scope, client_ip())
    except Exception:  # the limit store (Redis) is down: accept rather than lose what was typed
        log.warning("rate-limit store unavailable for %s", scope, exc_info=True)
        return True


def context(form: Any, step: int, titles: dict[int, str], notice: str | None) -> dict[str, Any]:
    """What a step's template needs: the form, where we are, the other steps' answers as hidden
    fields, and on the last step the recap (the form gives carried() and summary())."""
    last = max(titles)
    return {
        "form": form,
        "step": step,
        "last_step": last,
        "title": titles[step],
        "step_titles": titles,
        "carried": form.carried(step),
        "summary": form.summary() if step == last else [],
        "notice": notice,
    }
