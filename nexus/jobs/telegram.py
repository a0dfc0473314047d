"""Delivery of the Telegram outbox to the staff's chat (Bot API sendMessage), with retries."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from flask import current_app

from nexus.queue import job
from nexus.services.notifications import error_line
from nexus.services.stages import telegram

log = logging.getLogger(__name__)
TIMEOUT = 10  # seconds


class TelegramError(Exception):
    """Telegram answered, but did not take the message."""


def send(text: str) -> None:
    """POST /bot<token>/sendMessage; raises on any failure (the token never appears in errors)."""
    config = current_app.config
    token, chat = config.get("TELEGRAM_BOT_TOKEN"), config.get("TELEGRAM_CHAT_ID")
    if not (token and chat):
        raise TelegramError("Telegram n'est pas configuré (TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID)")
    payload = json.dumps({"chat_id": chat, "text": text, "disable_web_page_preview": True}).encode()
    request = urllib.request.Request(  # noqa: S310 - an https:// address from the configuration
        f"{config['TELEGRAM_API_URL']}/bot{token}/sendMessage",
        data=payload,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        raise TelegramError(f"HTTP {err.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise TelegramError(f"Telegram injoignable : {type(err).__name__}") from None
    except ValueError:
        raise TelegramError("réponse illisible") from None
    if not answer.get("ok"):
        raise TelegramError(str(answer.get("description") or "refusé")[:200])


@job
def deliver_message(message_id: int) -> str:
    """Send one outbox message once: claimed, sent outside any transaction, outcome recorded."""
    claim = telegram.claim_message(message_id)
    if claim is None:
        return "skipped"
    try:
        send(claim.body)
    except Exception as exc:  # Telegram down …: retried with backoff
        telegram.message_failed(message_id, error_line(exc))
        log.warning("telegram message %s not delivered (attempt %s): %s", message_id, claim.attempts, exc)
        return "failed"
    telegram.message_sent(message_id)
    return "sent"


@job
def flush_telegram(limit: int = 100) -> int:
    """Deliver what is due: messages whose first delivery was missed, and retries."""
    return sum(deliver_message(i) == "sent" for i in telegram.due_messages(limit))
