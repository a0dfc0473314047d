"""Messages from the public contact form: stored, then e-mailed and shown to staff."""

from __future__ import annotations

from flask import current_app

from nexus import links
from nexus.extensions import db
from nexus.models.notifications import ContactMessage
from nexus.services import command, notifications

TOPICS = {
    "inscription": "Inscription et offres",
    "paiement": "Paiement et facturation",
    "seances": "Séances et coachs",
    "aria": "ARIA, le tuteur IA",
    "autre": "Autre question",
}


@command
def submit(name: str, email: str, phone: str | None, topic: str, message: str) -> ContactMessage:
    row = ContactMessage(
        name=name.strip(),
        email=email.strip().lower(),
        phone=(phone or "").strip() or None,
        topic=topic,
        message=message.strip(),
    )
    db.session.add(row)
    db.session.flush()
    context = {
        "name": row.name,
        "email": row.email,
        "phone": row.phone,
        "topic": TOPICS.get(topic, topic),
        "message": row.message,
        "id": row.id,
    }
    notifications.queue_email(
        current_app.config["STAFF_EMAIL"],
        "contact_staff",
        f"Nouveau message de contact — {TOPICS.get(topic, topic)}",
        context,
    )
    notifications.notify_staff(
        "CONTACT_MESSAGE",
        f"Message de {row.name}",
        row.message[:200],
        links.internal("staff.contacts"),
    )
    return row
