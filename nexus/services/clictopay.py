"""Card payment through ClicToPay (SMT / Banque Zitouna), over its REST API.

register.do creates the gateway order (amount in millimes, currency 788 = TND) and returns the
payment page URL; the server then asks getOrderStatusExtended.do itself — the query string is
never trusted — when the family comes back (`confirm`), when staff or the reconciliation job
check an order the family never came back from (`reconcile`), and before a new attempt at the
same order (`start`). Every answer is read by one function (`_verdict`) and applied by one
conditional UPDATE (`_settle`): a paid order is fulfilled exactly like an approved transfer,
once, whoever asks and however many ask at the same time.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from nexus import links
from nexus.extensions import db
from nexus.models.billing import Payment, PaymentMethod, PaymentStatus
from nexus.models.identity import User
from nexus.services import ServiceError, audit, billing, catalog, command, notifications, utcnow
from nexus.services.billing import Order

log = logging.getLogger(__name__)
CURRENCY_TND = "788"
TIMEOUT = 10
UNAVAILABLE = "Le paiement par carte est momentanément indisponible. Réessayez ou payez par virement."
NO_ANSWER = "La banque ne répond pas pour le moment : le paiement reste en attente. Réessayez plus tard."
IN_PROGRESS = (
    "Votre paiement par carte est en cours de vérification auprès de la banque : "
    "nous vous prévenons dès qu'il est confirmé."
)
ALREADY_PAID = (
    "Ce paiement a déjà été reçu par la banque : la commande est active et la facture "
    "est dans vos paiements. Aucun nouveau paiement n'est nécessaire."
)

# getOrderStatusExtended.do's orderStatus values.
REGISTERED, PREAUTHORISED, PAID, REVERSED, REFUNDED, ACS_STARTED, DECLINED = range(7)
REFUSED_STATUSES = frozenset({REVERSED, REFUNDED, DECLINED})
ORDER_STATUS_LABELS = {
    REGISTERED: "Enregistrée, non payée",
    PREAUTHORISED: "Montant réservé",
    PAID: "Payée",
    REVERSED: "Autorisation annulée",
    REFUNDED: "Remboursée",
    ACS_STARTED: "Authentification 3-D Secure en cours",
    DECLINED: "Refusée",
}
UNKNOWN_ORDER = "6"  # errorCode: the gateway has no such order

# The job leaves the family time to come back from the payment page first, then asks again at
# most every RECHECK_EVERY (one order is one call, not one per run of the job).
CHECK_AFTER = timedelta(minutes=15)
RECHECK_EVERY = timedelta(minutes=10)
# The gateway's payment page lives 20 minutes (register.do's default sessionTimeoutSecs, 1200 s).
# An order still unpaid an hour after it was registered (room for a late 3-D Secure step or a
# slow bank answer) can no longer be paid: it has expired and is failed.
SESSION_EXPIRES_AFTER = timedelta(hours=1)

PAID_OUT, FAILED_OUT, WAITING, UNREACHABLE, SETTLED = "paid", "failed", "waiting", "unreachable", "settled"


class GatewayError(ServiceError):
    """The gateway could not be asked, or gave no usable answer: nothing is decided."""

    def __init__(self) -> None:
        super().__init__(UNAVAILABLE)


def enabled() -> bool:
    cfg = current_app.config
    return bool(cfg.get("CLICTOPAY_URL") and cfg.get("CLICTOPAY_USERNAME") and cfg.get("CLICTOPAY_PASSWORD"))


def _call(method: str, params: dict[str, str]) -> dict[str, Any]:
    cfg = current_app.config
    if not enabled():
        raise GatewayError
    url = f"{cfg['CLICTOPAY_URL'].rstrip('/')}/{method}"
    body = urllib.parse.urlencode(
        {"userName": cfg["CLICTOPAY_USERNAME"], "password": cfg["CLICTOPAY_PASSWORD"], **params}
    ).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - configured https URL
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            answer = json.loads(response.read().decode())
    except (OSError, ValueError) as exc:
        log.warning("clictopay %s failed: %s", method, exc)
        raise GatewayError from exc
    if not isinstance(answer, dict):
        log.warning("clictopay %s answered no object", method)
        raise GatewayError
    return answer


def _same_gateway(url: str) -> bool:
    """Only redirect the family to the configured gateway's host."""
    gateway = urllib.parse.urlsplit(current_app.config["CLICTOPAY_URL"])
    target = urllib.parse.urlsplit(url)
    return target.scheme in ("https", gateway.scheme) and target.netloc == gateway.netloc


# -- a new attempt ------------------------------------------------------------------------------


def start(parent: User, order: Order) -> str:
    """Create the payment and the gateway order; return the gateway's payment page URL.

    Earlier card attempts at the same order are settled first from the gateway's answer (one
    transaction, kept); a paid one refuses the new attempt, a gateway error too."""
    if _settle_earlier_attempts(order):
        raise ServiceError(ALREADY_PAID)
    return _register(parent, order)


@command
def _register(parent: User, order: Order) -> str:
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
    if not isinstance(form_url, str) or not _same_gateway(form_url):
        raise ServiceError(UNAVAILABLE)
    payment.external_id = str(answer["orderId"])[:64]
    payment.gateway_data = {"register": {"orderId": payment.external_id}}
    audit.record("payment.card_started", parent.id, payment)
    return form_url


@command
def _settle_earlier_attempts(order: Order) -> bool:
    """Ask the gateway about every pending card attempt at this order before a new one: a paid
    one is fulfilled (True), an unpaid, declined, expired or unknown one is failed; one still
    being paid (3-D Secure) or a gateway error refuses the new attempt. Never failed blindly."""
    ids = db.session.scalars(
        select(Payment.id).where(
            Payment.student_id == order.student.id,
            Payment.offer_code == order.offer.code,
            Payment.status == PaymentStatus.PENDING,
            Payment.method == PaymentMethod.CLICTOPAY,
        )
    ).all()
    paid = False
    for payment_id in ids:
        payment = db.session.get_one(Payment, payment_id)
        at = utcnow()
        answer = _ask(payment)  # GatewayError: the new attempt is refused, nothing guessed
        verdict = _verdict(payment, answer, at)
        if verdict.outcome == WAITING and verdict.order_status == REGISTERED:
            verdict = Verdict(FAILED_OUT, "Paiement par carte abandonné", REGISTERED, verdict.answer)
        elif verdict.outcome == WAITING:
            raise ServiceError(IN_PROGRESS)
        _settle(payment, verdict, at)
        paid = paid or verdict.outcome == PAID_OUT
    return paid


# -- what the gateway says ----------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    outcome: str  # PAID_OUT, FAILED_OUT or WAITING
    reason: str | None
    order_status: int | None
    answer: dict[str, Any]


def _ask(payment: Payment) -> dict[str, Any]:
    """The gateway's answer about the payment's order ({} when it never had one)."""
    if not payment.external_id:
        return {}
    return _call("getOrderStatusExtended.do", {"orderId": payment.external_id, "language": "fr"})


def _integer(value: Any) -> int | None:
    """An integer (JSON number or ASCII digits); anything else is None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


_millimes = _integer  # the gateway's amount


def _verdict(payment: Payment, answer: dict[str, Any], at: datetime) -> Verdict:
    """Read the gateway's answer: paid (the exact amount in TND), failed (refused, unknown,
    expired) or still waiting. An error answer decides nothing (GatewayError)."""
    if not payment.external_id:
        return Verdict(FAILED_OUT, "Commande jamais enregistrée auprès de la banque", None, {})
    error = str(answer.get("errorCode", "0"))
    if error == UNKNOWN_ORDER:
        return Verdict(FAILED_OUT, "Commande inconnue de la banque", None, answer)
    status = _integer(answer.get("orderStatus"))
    if error != "0" or status is None:
        log.warning(
            "clictopay status of %s: error %s %s", payment.reference, error, answer.get("errorMessage")
        )
        raise GatewayError
    if status == PAID:
        exact = (
            _millimes(answer.get("amount")) == payment.amount_millimes
            and str(answer.get("currency", CURRENCY_TND)) == CURRENCY_TND
        )
        if exact:
            return Verdict(PAID_OUT, None, status, answer)
        log.warning("clictopay %s paid with another amount or currency: %r", payment.reference, answer)
        return Verdict(FAILED_OUT, "Montant ou devise inattendus : à vérifier avec la banque", status, answer)
    if status in REFUSED_STATUSES:
        reason = str(answer.get("actionCodeDescription") or "") or "Paiement refusé par la banque"
        return Verdict(FAILED_OUT, reason[:500], status, answer)
    if payment.created_at + SESSION_EXPIRES_AFTER <= at:
        return Verdict(FAILED_OUT, "Session de paiement expirée sans paiement", status, answer)
    return Verdict(WAITING, None, status, answer)


def _gateway_record(payment: Payment, verdict: Verdict, at: datetime) -> dict[str, Any]:
    """What staff read of the last answer: the order's status and the bank's words."""
    answer = verdict.answer
    status = {
        "orderStatus": verdict.order_status,
        "actionCode": answer.get("actionCode"),
        "description": str(answer.get("actionCodeDescription") or "")[:200] or None,
        "errorCode": str(answer.get("errorCode", "0")),
        "at": at.isoformat(),
    }
    return {**(payment.gateway_data or {}), "status": status}


def _settle(payment: Payment, verdict: Verdict, at: datetime) -> bool:
    """Apply the verdict to a still-pending payment with one conditional UPDATE; fulfil a paid
    one. Whether this call settled it (False: still waiting, or settled by someone else)."""
    values: dict[str, Any] = {"checked_at": at, "gateway_data": _gateway_record(payment, verdict, at)}
    if verdict.outcome != WAITING:
        target = PaymentStatus.COMPLETED if verdict.outcome == PAID_OUT else PaymentStatus.FAILED
        values |= {
            "status": target,
            "processed_at": at,
            "rejection_reason": verdict.reason,
            "declared_at": at,
        }
    claimed = db.session.scalar(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
        .values(**values)
        .returning(Payment.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(payment)
    if claimed is None or verdict.outcome == WAITING:
        return False
    if verdict.outcome == PAID_OUT:
        billing.fulfil(payment, None)
    else:
        audit.record(
            "payment.card_failed",
            None,
            payment,
            before={"status": "PENDING"},
            after={"status": payment.status.value, "reason": verdict.reason},
        )
    return True


# -- the family's return ------------------------------------------------------------------------


@command
def confirm(order_id: str, payer: User | None = None) -> Payment:
    """Ask the gateway for the order's status and settle the payment once (LookupError → 404).

    Given the payer (the family back from the gateway), someone else's order is not found and
    nothing is asked nor changed. Back without paying (order only registered): failed. Still
    being paid (3-D Secure), or no answer: it stays pending for the job, and the family is told."""
    payment = db.session.scalar(
        select(Payment).where(Payment.method == PaymentMethod.CLICTOPAY, Payment.external_id == order_id[:64])
    )
    if payment is None or (payer is not None and payment.payer_id != payer.id):
        raise LookupError(order_id)
    if payment.status is not PaymentStatus.PENDING:
        return payment  # already settled by an earlier return or the job
    at = utcnow()
    verdict = _verdict(payment, _ask(payment), at)
    if verdict.outcome == WAITING and verdict.order_status == REGISTERED:
        reason = "Paiement par carte non effectué"
        verdict = Verdict(FAILED_OUT, reason, REGISTERED, verdict.answer)
    _settle(payment, verdict, at)
    if payment.is_pending:
        raise ServiceError(IN_PROGRESS)
    return payment


# -- reconciliation: the job and staff ----------------------------------------------------------


@dataclass(frozen=True)
class Check:
    payment: Payment
    outcome: str  # PAID_OUT, FAILED_OUT, WAITING, UNREACHABLE or SETTLED (already, before asking)


def card_payments_to_check(at: datetime | None = None, limit: int = 500) -> list[int]:
    """Card payments still pending CHECK_AFTER their creation, not asked in the last RECHECK_EVERY."""
    at = at or utcnow()
    stmt = (
        select(Payment.id)
        .where(
            Payment.method == PaymentMethod.CLICTOPAY,
            Payment.status == PaymentStatus.PENDING,
            Payment.created_at <= at - CHECK_AFTER,
            or_(Payment.checked_at.is_(None), Payment.checked_at <= at - RECHECK_EVERY),
        )
        .order_by(Payment.created_at)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


@command
def reconcile(payment_id: int, actor: User | None = None) -> Check:
    """Ask the gateway about one pending card payment and settle it: paid → fulfilled, refused or
    expired → failed, otherwise left pending. A gateway error decides nothing (UNREACHABLE, the
    check time kept). Staff (actor) get an audit line. LookupError: no such card payment."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.method is not PaymentMethod.CLICTOPAY:
        raise LookupError(payment_id)
    if payment.status is not PaymentStatus.PENDING:
        return Check(payment, SETTLED)
    at = utcnow()
    try:
        verdict = _verdict(payment, _ask(payment), at)
    except GatewayError:
        log.warning("clictopay reconcile %s: no answer, left pending", payment.reference)
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status == PaymentStatus.PENDING)
            .values(checked_at=at)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(payment)
        return Check(payment, UNREACHABLE)
    settled = _settle(payment, verdict, at)
    if settled and verdict.outcome == FAILED_OUT:  # the family left before the answer: tell them
        notifications.notify(
            payment.payer_id,
            "PAYMENT_FAILED",
            "Paiement par carte non abouti",
            f"La banque n'a pas confirmé le paiement de {catalog.order_label(payment)} : rien n'a été "
            "débité par Nexus Réussite. Vous pouvez payer de nouveau, par carte ou par virement.",
            links.internal("parent.payments"),
        )
    if actor is not None:
        audit.record(
            "payment.card_checked",
            actor.id,
            payment,
            before={"status": "PENDING"},
            after={"status": payment.status.value, "card_status": card_status_label(payment)},
        )
    return Check(payment, verdict.outcome if settled or verdict.outcome == WAITING else SETTLED)


def card_status_label(payment: Payment) -> str | None:
    """The gateway's last word on the order, in French (None before it was asked)."""
    status = (payment.gateway_data or {}).get("status") or {}
    code = status.get("orderStatus")
    if code is None:
        return "Commande inconnue" if status.get("errorCode") == UNKNOWN_ORDER else None
    return ORDER_STATUS_LABELS.get(code, f"État {code}")


def bank_words(payment: Payment) -> str | None:
    """The bank's own description of its last answer (a refusal's reason), if it gave one."""
    return ((payment.gateway_data or {}).get("status") or {}).get("description")
