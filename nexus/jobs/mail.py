"""Delivery of the e-mail outbox: SMTP when configured, .eml files under instance/mail/ otherwise."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_mail import Message

from nexus.extensions import mail
from nexus.models.notifications import OutboxEmail
from nexus.queue import job
from nexus.services import notifications
from nexus.services.notifications import one_line
from nexus.services.scheduling import calendar

log = logging.getLogger(__name__)


def build_message(row: OutboxEmail) -> Message:
    ctx = dict(row.context or {})
    ctx.setdefault("public_url", current_app.config["PUBLIC_URL"])
    message = Message(
        subject=one_line(row.subject),  # rows written before headers were cleaned at the outbox
        recipients=[one_line(row.to_email)],
        body=render_template(f"emails/{row.template}.txt", **ctx),
        html=render_template(f"emails/{row.template}.html", **ctx),
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
    )
    for filename, content_type, data in attachments(ctx):
        message.attach(filename, content_type, data)
    return message


def attachments(ctx: dict[str, Any]) -> list[tuple[str, str, bytes]]:
    """Files built at delivery from ids in the context (the outbox row stays small JSON).

    - "ics_booking_id": the session's .ics (coach's wording when "audience" is "coach").
    """
    found = []
    if ctx.get("ics_booking_id"):
        ics = calendar.booking_attachment(
            int(ctx["ics_booking_id"]), for_coach=ctx.get("audience") == "coach"
        )
        if ics is not None:
            found.append(ics)
    return found


def send(message: Message, outbox_id: int) -> None:
    if current_app.config.get("MAIL_SERVER"):
        mail.send(message)
        return
    folder = Path(current_app.instance_path) / "mail"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{outbox_id:06d}.eml").write_bytes(message.as_bytes())


@job
def deliver_email(outbox_id: int) -> str:
    """Send one outbox e-mail once: claimed by one worker (the message built under the claim),
    sent outside any transaction, then the outcome recorded."""
    claim = notifications.claim_email(outbox_id, build_message)
    if claim is None:
        return "skipped"
    error = claim.error
    if claim.prepared is not None:
        try:
            send(claim.prepared, outbox_id)
        except Exception as exc:  # SMTP down …: retried with backoff
            error = notifications.error_line(exc)
        else:
            notifications.email_sent(outbox_id)
            return "sent"
    notifications.email_failed(outbox_id, error or "")
    log.warning("e-mail %s not delivered (attempt %s): %s", outbox_id, claim.attempts, error)
    return "failed"


@job
def flush_outbox(limit: int = 200) -> int:
    """Deliver what is due: e-mails whose first delivery was missed, and retries."""
    return sum(deliver_email(i) == "sent" for i in notifications.due_emails(limit))
