"""The signed links of a bilan: one per audience, HMAC (itsdangerous, SECRET_KEY, a salt per
audience), valid 30 days, carrying the bilan, the audience and the link version (bumped to
revoke). There is no other way in for the family: no share id, no id in the address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from nexus import links
from nexus.extensions import db
from nexus.models.diagnostics import Audience, Bilan
from nexus.services import utcnow

VALIDITY = timedelta(days=30)
READ_ENDPOINT = "bilans.read"


def _serializer(audience: Audience) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"nexus.bilan.{audience.value}")


def token(bilan: Bilan, audience: Audience) -> str:
    return str(_serializer(audience).dumps({"b": bilan.id, "a": audience.value, "v": bilan.link_version}))


def path(bilan: Bilan, audience: Audience) -> str:
    return links.internal(READ_ENDPOINT, token=token(bilan, audience))


def url(bilan: Bilan, audience: Audience) -> str:
    """The address put in an e-mail."""
    return links.external(READ_ENDPOINT, token=token(bilan, audience))


def expires_on(now: datetime | None = None) -> datetime:
    """When a link signed now stops working."""
    return (now or utcnow()) + VALIDITY


class LinkRefused(Exception):
    """A link that shows nothing: 404 (unknown, altered, wrong audience) or 410 (expired, revoked)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


UNKNOWN = LinkRefused(
    404,
    "Lien invalide",
    "Ce lien de bilan n'est pas valide. Vérifiez qu'il a été copié en entier depuis l'e-mail reçu.",
)
EXPIRED = LinkRefused(
    410,
    "Lien expiré",
    "Ce lien de bilan a expiré : il était valable 30 jours. Demandez un nouveau lien à l'équipe "
    "Nexus Réussite, ou connectez-vous à votre espace.",
)
REVOKED = LinkRefused(
    410,
    "Lien révoqué",
    "Ce lien de bilan a été désactivé par l'équipe Nexus Réussite. Un nouveau lien a pu vous être "
    "envoyé par e-mail ; sinon, contactez-nous.",
)
NOT_READY = LinkRefused(
    404,
    "Bilan indisponible",
    "Ce bilan n'est pas disponible pour le moment. Réessayez plus tard ou contactez-nous.",
)


@dataclass(frozen=True)
class Opened:
    bilan: Bilan
    audience: Audience


def _payload(raw: str) -> tuple[Audience, dict[str, Any]]:
    """The audience whose salt signed the token, and what it carries; raises LinkRefused."""
    if not raw or len(raw) > 400:
        raise UNKNOWN
    for audience in Audience:
        serializer = _serializer(audience)
        try:
            payload = serializer.loads(raw, max_age=int(VALIDITY.total_seconds()))
        except SignatureExpired:
            raise EXPIRED from None
        except BadSignature:
            continue
        if not isinstance(payload, dict):
            raise UNKNOWN
        return audience, payload
    raise UNKNOWN


def open_link(raw: str) -> Opened:
    """The bilan and audience a link opens; LinkRefused when it opens nothing."""
    audience, payload = _payload(raw)
    bilan_id, claimed, version = payload.get("b"), payload.get("a"), payload.get("v")
    if claimed != audience.value or not isinstance(bilan_id, int) or not isinstance(version, int):
        raise UNKNOWN  # signed for one audience, claiming another: never shown
    if isinstance(bilan_id, bool) or not 0 < bilan_id < 2**63:
        raise UNKNOWN
    bilan = db.session.get(Bilan, bilan_id)
    if bilan is None:
        raise UNKNOWN
    if version != bilan.link_version:
        raise REVOKED
    if not bilan.is_ready:
        raise NOT_READY
    return Opened(bilan, audience)
