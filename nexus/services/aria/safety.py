"""The safety check on each question, before ARIA answers it: a French lexicon that works offline
(the floor), then the model's own moderation pass when the endpoint has one.

The lexicon (`lexicon.py`) needs no network; the moderation pass is asked only when it found
nothing, so a flagged question costs no round trip.

ARIA_MODERATION chooses the pass: "api" (POST /v1/moderations through the OpenAI SDK), "chat" (a
one-label classification completion by the configured chat model: what works with Ollama), "auto"
(the default: api, and on a 404 the chat classification) or "off" (the lexicon alone). Each pass
has a short timeout; an error, a timeout or an answer that is not exactly one label leaves the
lexicon's verdict alone (logged), and the question is answered as usual.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from nexus.models.aria import SafetyCategory
from nexus.services import llm
from nexus.services.aria import classify
from nexus.services.aria.lexicon import SEVERITY, Verdict, lexicon, normalise

__all__ = ["MODERATION", "SEVERITY", "Verdict", "check", "lexicon", "mode", "moderate", "normalise"]

log = logging.getLogger(__name__)

MODERATION_TIMEOUT = 2.0
CHAT_TIMEOUT = 5.0
MODES = ("auto", "api", "chat", "off")

# -- the model's moderation pass ------------------------------------------------------------------------

# OpenAI's moderation categories -> ours (violence and hate aimed at someone: harassment).
MODERATION = {
    "self-harm": SafetyCategory.SELF_HARM,
    "self-harm/intent": SafetyCategory.SELF_HARM,
    "self-harm/instructions": SafetyCategory.SELF_HARM,
    "harassment": SafetyCategory.HARASSMENT,
    "harassment/threatening": SafetyCategory.HARASSMENT,
    "hate/threatening": SafetyCategory.HARASSMENT,
    "violence": SafetyCategory.HARASSMENT,
    "sexual/minors": SafetyCategory.DISTRESS,
}


def mode() -> str:
    """ARIA_MODERATION as one of MODES (a boolean, as older configurations had: auto or off)."""
    value = current_app.config.get("ARIA_MODERATION", "auto")
    if isinstance(value, bool) or value is None:
        return "auto" if value else "off"
    value = str(value).strip().lower()
    if value in MODES:
        return value
    return "off" if value in {"0", "false", "no", "non", ""} else "auto"


def moderation_enabled(conf: llm.Settings | None) -> bool:
    return conf is not None and mode() != "off"


def _flagged(result: Any) -> list[str]:
    """The category names a moderation result flags (SDK object or plain dict)."""
    categories = getattr(result, "categories", None)
    if categories is None and isinstance(result, dict):
        categories = result.get("categories")
    if hasattr(categories, "model_dump"):
        categories = categories.model_dump(by_alias=True)
    return [name for name, on in (categories or {}).items() if on]


def moderate(text: str, conf: llm.Settings) -> Verdict | None:
    """The configured pass (api, chat, or api then chat on a 404), or None."""
    chosen = mode()
    if chosen == "chat":
        return classify.classify(text, conf)
    verdict = moderate_api(text, conf)
    if verdict is MISSING:
        return classify.classify(text, conf) if chosen == "auto" else None
    return verdict


class _Missing:
    """The endpoint has no moderation route (404): a marker, never a verdict."""


MISSING: Any = _Missing()


def moderate_api(text: str, conf: llm.Settings) -> Verdict | None:
    """The endpoint's own moderation: a verdict, None, or MISSING on a 404."""
    from openai import NotFoundError, OpenAIError

    model = current_app.config.get("ARIA_MODERATION_MODEL") or "omni-moderation-latest"
    timeout = float(current_app.config.get("ARIA_MODERATION_TIMEOUT") or MODERATION_TIMEOUT)
    try:
        client = llm._client(conf).with_options(timeout=timeout, max_retries=0)
        response = client.moderations.create(model=model, input=text)
    except NotFoundError:
        log.info("aria: the endpoint has no moderation route (404)")
        return MISSING
    except OpenAIError as exc:
        log.info("aria: no moderation pass (%s): the lexicon alone decides", type(exc).__name__)
        return None
    except Exception:  # a malformed answer is the endpoint's fault: never block the student on it
        log.warning("aria: moderation answer unreadable", exc_info=True)
        return None
    flagged = [name for result in response.results or [] for name in _flagged(result)]
    found = {MODERATION[name]: name for name in flagged if name in MODERATION}
    for category in SEVERITY:
        if category in found:
            return Verdict(category, "moderation", found[category])
    return None


def check(text: str, conf: llm.Settings | None) -> Verdict | None:
    """The lexicon first (offline, instant); the moderation pass only when it found nothing."""
    verdict = lexicon(text)
    if verdict is None and moderation_enabled(conf):
        assert conf is not None
        verdict = moderate(text, conf)
    return verdict
