"""A local fake of the ClicToPay REST API over real HTTP (register.do, getOrderStatusExtended.do)
and of its payment page, so the app's real client code runs in tests."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes import FakeServer
from tests.servers import free_port

USERNAME, PASSWORD = "nexus-merchant", "merchant-secret"
REGISTERED, PAID, DECLINED = 0, 2, 6  # getOrderStatusExtended.do's orderStatus
PAY_PAGE = """<!doctype html><html lang="fr"><title>ClicToPay (test)</title><h1>Paiement par carte</h1>
<p>Montant : {amount} millimes</p>
<form method="post" action="/payment/merchants/pay">
<input type="hidden" name="mdOrder" value="{order_id}">
<button name="decision" value="pay">Payer</button>
<button name="decision" value="decline">Refuser</button></form>"""


@dataclass
class GatewayOrder:
    order_id: str
    order_number: str
    amount: int
    currency: str
    return_url: str
    status: int = 0  # 0 registered, 2 deposited (paid), 6 declined
    description: str | None = None  # the bank's words on a refusal (actionCodeDescription)


@dataclass
class FakeClicToPay:
    port: int = field(default_factory=free_port)
    orders: dict[str, GatewayOrder] = field(default_factory=dict)
    status_calls: int = 0
    # orderId → how many times its status was asked (a test checks the job does not hammer)
    asked: dict[str, int] = field(default_factory=dict)
    # "error": every status answer is errorCode 7 (system error); "down": HTTP 503
    failure: str | None = None
    _server: ThreadingHTTPServer | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/payment/rest"

    def pay(self, order_id: str, status: int = 2) -> None:
        self.orders[order_id].status = status

    def set_status(self, order_id: str, status: int | str, description: str | None = None) -> None:
        """Put an order in a state: "paid", "declined", "registered", or an orderStatus number."""
        named = {"registered": REGISTERED, "paid": PAID, "declined": DECLINED}
        self.orders[order_id].status = named[status] if isinstance(status, str) else status
        self.orders[order_id].description = description

    def forget(self, order_id: str) -> None:
        """The gateway no longer knows the order (errorCode 6 on its status)."""
        del self.orders[order_id]

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _form(self) -> dict[str, str]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                return {k: v[0] for k, v in parse_qs(raw).items()}

            def _json(self, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                form = self._form()
                if path.endswith("/merchants/pay"):
                    return self._decide(form)
                if form.get("userName") != USERNAME or form.get("password") != PASSWORD:
                    return self._json({"errorCode": "5", "errorMessage": "Access denied"})
                if path.endswith("/register.do"):
                    return self._json(fake._register(form))
                if path.endswith("/getOrderStatusExtended.do"):
                    fake.status_calls += 1
                    order_id = form.get("orderId", "")
                    fake.asked[order_id] = fake.asked.get(order_id, 0) + 1
                    if fake.failure == "down":
                        self.send_error(503)
                        return None
                    if fake.failure == "error":
                        return self._json({"errorCode": "7", "errorMessage": "System error"})
                    return self._json(fake._status(order_id))
                self.send_error(404)
                return None

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                order = fake.orders.get(query.get("mdOrder", [""])[0])
                if order is None:
                    self.send_error(404)
                    return
                body = PAY_PAGE.format(amount=order.amount, order_id=order.order_id).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def _decide(self, form: dict[str, str]) -> None:
                order = fake.orders[form["mdOrder"]]
                order.status = 2 if form.get("decision") == "pay" else 6
                self.send_response(302)
                self.send_header("Location", f"{order.return_url}?{urlencode({'orderId': order.order_id})}")
                self.end_headers()

        self._server = FakeServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _register(self, form: dict[str, str]) -> dict[str, Any]:
        if any(o.order_number == form.get("orderNumber") for o in self.orders.values()):
            return {"errorCode": "1", "errorMessage": "Order number is duplicated"}
        order = GatewayOrder(
            order_id=str(uuid.uuid4()),
            order_number=form["orderNumber"],
            amount=int(form["amount"]),
            currency=form.get("currency", ""),
            return_url=form["returnUrl"],
        )
        self.orders[order.order_id] = order
        return {
            "orderId": order.order_id,
            "formUrl": f"http://127.0.0.1:{self.port}/payment/merchants/pay?mdOrder={order.order_id}",
        }

    def _status(self, order_id: str) -> dict[str, Any]:
        order = self.orders.get(order_id)
        if order is None:
            return {"errorCode": "6", "errorMessage": "Unknown order"}
        return {
            "errorCode": "0",
            "orderStatus": order.status,
            "amount": order.amount,
            "currency": order.currency,
            "OrderNumber": order.order_number,
            "actionCodeDescription": ""
            if order.status in (REGISTERED, PAID)
            else (order.description or "Paiement refusé"),
        }
