"""Card payment through ClicToPay (SMT / Banque Zitouna), over its REST API.

register.do creates the gateway order (amount in millimes, currency 788 = TND) and returns the
payment page URL; on return, the server asks getOrderStatusExtended.do itself — the query
string is never trusted — and a paid order is fulfilled exactly like an approved transfer,
once per order whatever the number of returns.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from nexus import links
from nexus.extensions import db
from nexus.models.billing import Payment, PaymentMethod, PaymentStatus
from nexus.models.identity import User
from nexus.services import ServiceError, audit, billing, command, utcnow
from nexus.services.billing import Order

log = logging.getLogger(__name__)
CURRENCY_TND = "788"
PAID = 2  # orderStatus "deposited"
TIMEOUT = 10
UNAVAILABLE = "Le paiement par carte est momentanément indisponible. Réessayez ou payez par virement."


def enabled() -> bool:
    cfg = current_app.config
    return bool(cfg.get("CLICTOPAY_URL") and cfg.get("CLICTOPAY_USERNAME") and cfg.get("CLICTOPAY_PASSWORD"))


def _call(method: str, params: dict[str, str]) -> dict[str, Any]:
    cfg = current_app.config
    url = f"{cfg['CLICTOPAY_URL'].rstrip('/')}/{method}"
    body = urllib.parse.urlencode(
        {"userName": cfg["CLICTOPAY_USERNAME"], "password": cfg["CLICTOPAY_PASSWORD"], **params}
    ).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - configured https URL
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return json.loads(response.read().decode())
    except (OSError, ValueError) as exc:
        log.warning("clictopay %s failed: %s", method, exc)
        raise ServiceError(UNAVAILABLE) from exc


def _same_gateway(url: str) -> bool:
    """Only redirect the family to the configured gateway's host."""
    gateway = urllib.parse.urlsplit(current_app.config["CLICTOPAY_URL"])
    target = urllib.parse.urlsplit(url)
    return target.scheme in ("https", gateway.scheme) and target.netloc == gateway.netloc


@command
def start(parent: User, order: Order) -> str:
    """Create the payment and the gateway order; return the gateway's payment page URL."""
    _drop_abandoned(order)
    payment = billing.create_pending(parent, order, PaymentMethod.CLICTOPAY, billing.new_reference())
    if payment is None:
        raise ServiceError("Un paiement pour cette commande est déjà en attente de validation.")
    answer = _call(
        "register.do",
        {
            "orderNumber": payment.reference,
            "amount": str(order.amount_millimes),
            "currency": CURRENCY_TND,
            "returnUrl": links.external("parent.card_return"),
            "failUrl": links.external("parent.card_return"),
            "language": "fr",
            "description": order.label[:99],
        },
    )
    form_url = answer.get("formUrl")
    if str(answer.get("errorCode", "0")) != "0" or not answer.get("orderId") or not form_url:
        log.warning("clictopay register refused: %s", answer.get("errorMessage"))
        raise ServiceError(UNAVAILABLE)
    if not _same_gateway(form_url):
        raise ServiceError(UNAVAILABLE)
    payment.external_id = answer["orderId"]
    payment.gateway_data = {"register": {"orderId": answer["orderId"]}}
    audit.record("payment.card_started", parent.id, payment)
    return form_url


def _drop_abandoned(order: Order) -> None:
    """A card attempt left unpaid must not block a new one."""
    db.session.execute(
        update(Payment)
        .where(
            Payment.student_id == order.student.id,
            Payment.offer_code == order.offer.code,
            Payment.status == PaymentStatus.PENDING,
            Payment.method == PaymentMethod.CLICTOPAY,
        )
        .values(
            status=PaymentStatus.FAILED,
            processed_at=utcnow(),
            rejection_reason="Paiement par carte abandonné",
        )
    )


def _millimes(value: Any) -> int | None:
    """The gateway's amount: an integer (JSON number or ASCII digits); anything else is None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


@command
def confirm(order_id: str, payer: User | None = None) -> Payment:
    """Ask the gateway for the order's status and settle the payment once (LookupError → 404).

    Given the payer (the family back from the gateway), someone else's order is not found and
    nothing is asked nor changed."""
    payment = db.session.scalar(
        select(Payment).where(Payment.method == PaymentMethod.CLICTOPAY, Payment.external_id == order_id[:64])
    )
    if payment is None or (payer is not None and payment.payer_id != payer.id):
        raise LookupError(order_id)
    if payment.status is not PaymentStatus.PENDING:
        return payment  # already settled by an earlier return
    status = _call("getOrderStatusExtended.do", {"orderId": order_id, "language": "fr"})
    paid = (
        status.get("orderStatus") == PAID
        and str(status.get("errorCode", "0")) == "0"
        and _millimes(status.get("amount")) == payment.amount_millimes
        and str(status.get("currency", CURRENCY_TND)) == CURRENCY_TND
    )
    target = PaymentStatus.COMPLETED if paid else PaymentStatus.FAILED
    reason = None if paid else (status.get("actionCodeDescription") or "Paiement refusé par la banque")
    claimed = db.session.scalar(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
        .values(status=target, processed_at=utcnow(), rejection_reason=reason, declared_at=utcnow())
        .returning(Payment.id)
    )
    db.session.refresh(payment)
    if claimed is not None and paid:
        billing.fulfil(payment, None)
    return payment
