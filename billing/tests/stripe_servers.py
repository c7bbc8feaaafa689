"""Stripe on loopback for the tests: ``localstripe`` (a stateful Stripe server from PyPI) for
customers, plans, subscriptions, invoices and webhook deliveries, behind a small front server
that adds what localstripe lacks — Checkout sessions (subscription and payment mode),
customer-portal sessions and credit notes — and collects
the signed webhook deliveries so a test can post them to Berth, replay and shuffle them.

Berth talks to the front with the real ``stripe`` library (``STRIPE_API_BASE``); every event is
signed with Stripe's scheme (``t=<time>,v1=<HMAC-SHA256 of "<time>.<payload>">``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

from conftest import free_port

WEBHOOK_SECRET = "whsec_berth_tests"
API_KEY = "sk_test_berth"


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _wait_for_port(port: int, proc: subprocess.Popen) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError("localstripe exited")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("localstripe did not start")


def nested_form(body: bytes) -> dict:
    """Stripe's form encoding (``a[b][0][c]=v``) back into nested dicts and lists."""
    out: dict = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(out)


def _lists(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_lists(v) for v in node]
    return node


class StripeServers:
    """localstripe in a subprocess and the front server in a thread."""

    def __init__(self, workdir: Path):
        self.local_port = free_port()
        code = (
            "from aiohttp import web; from localstripe.server import app; "
            f"web.run_app(app, host='127.0.0.1', port={self.local_port}, print=None)"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.local_port, self.proc)
        self.sessions: dict[str, dict] = {}
        self.credit_notes: dict[str, dict] = {}
        self.overdue: dict[str, str] = {}  # subscription id -> its unpaid renewal invoice
        self.deliveries: list[tuple[bytes, str]] = []
        self.lock = threading.Lock()
        self.front = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.front_port = self.front.server_address[1]
        threading.Thread(target=self.front.serve_forever, daemon=True).start()
        self.local_request(
            "POST",
            "/_config/webhooks/berth",
            f"url={self.url}/hook&secret={WEBHOOK_SECRET}".encode(),
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.front_port}"

    def stop(self) -> None:
        self.front.shutdown()
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def local_request(self, method: str, path: str, body: bytes | None = None, headers=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.local_port}{path}",
            data=body,
            method=method,
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    # --- what the tests do as the customer and as Stripe -----------------------------------
    def complete_checkout(self, session_id: str, *, payment_method: str = "pm_card_visa") -> str:
        """The customer pays on the Checkout page: their card is saved, the subscription made
        (localstripe charges its first invoice), and Stripe sends checkout.session.completed.
        Returns the subscription id."""
        import stripe

        session = self.sessions[session_id]
        customer = session["customer"]
        stripe.PaymentMethod.attach(payment_method, customer=customer)
        stripe.Customer.modify(
            customer, invoice_settings={"default_payment_method": payment_method}
        )
        item = session["line_items"][0]
        subscription = stripe.Subscription.create(
            customer=customer,
            items=[{"plan": item["price"]}],
            metadata=session.get("subscription_data", {}).get("metadata", {}),
        )
        session.update(status="complete", subscription=subscription.id)
        self.send_event("checkout.session.completed", session)
        return subscription.id

    def pay_checkout(
        self, session_id: str, *, payment_method: str = "pm_card_visa", notify: bool = True
    ) -> str:
        """The customer pays a payment-mode Checkout session: the card is saved on the
        customer and charged (a real payment intent in localstripe), the session reads
        complete and paid, and Stripe sends checkout.session.completed (unless ``notify`` is
        false: a dropped webhook). Returns the payment intent's id; a declined card raises
        ``stripe.CardError`` and leaves the session open, as Stripe's page does."""
        import stripe

        session = self.sessions[session_id]
        customer = session["customer"]
        stripe.PaymentMethod.attach(payment_method, customer=customer)
        stripe.Customer.modify(
            customer, invoice_settings={"default_payment_method": payment_method}
        )
        price = session["line_items"][0]["price_data"]
        intent = stripe.PaymentIntent.create(
            amount=int(price["unit_amount"]),
            currency=price["currency"],
            customer=customer,
            payment_method=payment_method,
            confirm=True,
            metadata=session.get("payment_intent_data", {}).get("metadata", {}),
        )
        session.update(status="complete", payment_status="paid", payment_intent=intent.id)
        if notify:
            self.send_event("checkout.session.completed", session)
        return intent.id

    def issue_credit_note(self, customer: str, amount: int, *, reason: str = "") -> dict:
        """The operator credits a customer in Stripe's dashboard (localstripe has no credit
        notes): Stripe sends credit_note.created."""
        note = {
            "id": f"cn_{secrets.token_hex(8)}",
            "object": "credit_note",
            "customer": customer,
            "invoice": None,
            "number": f"CN-{len(self.credit_notes) + 1:04d}",
            "total": amount,
            "amount": amount,
            "currency": "usd",
            "reason": reason or None,
            "status": "issued",
            "created": int(time.time()),
        }
        self.credit_notes[note["id"]] = note
        self.send_event("credit_note.created", note)
        return note

    def expire_checkout(self, session_id: str) -> None:
        """The customer never paid: Stripe expires the session and says so."""
        session = self.sessions[session_id]
        session["status"] = "expired"
        self.send_event("checkout.session.expired", session)

    def renewal_failed(self, subscription_id: str, invoice_id: str) -> None:
        """Stripe's dunning, which localstripe lacks: the renewal invoice's charge was declined,
        so the subscription reads ``past_due`` until that invoice is paid, and Stripe sends
        invoice.payment_failed."""
        self.overdue[subscription_id] = invoice_id
        self.send_event("invoice.payment_failed", self._local_json(f"/v1/invoices/{invoice_id}"))

    def subscription_updated(self, subscription_id: str) -> None:
        """What Stripe sends after a change in the portal, which localstripe does not."""
        obj = self._local_json(f"/v1/subscriptions/{subscription_id}")
        self.send_event("customer.subscription.updated", obj)

    def _local_json(self, path: str) -> dict:
        status, body = self.local_request("GET", path, headers=self._auth)
        assert status == 200, body
        return json.loads(body)

    @property
    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {API_KEY}"}

    def _overlay(self, path: str, body: bytes) -> bytes:
        subscription_id = path.split("?")[0].rsplit("/", 1)[-1]
        invoice_id = self.overdue.get(subscription_id)
        if not path.startswith("/v1/subscriptions/") or invoice_id is None:
            return body
        if self._local_json(f"/v1/invoices/{invoice_id}")["status"] == "paid":
            return body
        return json.dumps({**json.loads(body), "status": "past_due"}).encode()

    def send_event(self, kind: str, obj: dict) -> dict:
        """Deliver an event signed like Stripe's (as Stripe posts what localstripe lacks)."""
        event = {
            "id": f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": obj},
        }
        payload = json.dumps(event).encode()
        with self.lock:
            self.deliveries.append((payload, sign(payload)))
        return event

    def wait_for_deliveries(self, count: int) -> list[tuple[bytes, str]]:
        """localstripe posts its events a second after the change: wait until ``count`` have
        arrived (no timing is asserted, only that they come)."""
        for _ in range(400):
            with self.lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            time.sleep(0.05)
        raise AssertionError(f"only {len(self.deliveries)} of {count} webhook deliveries came")

    def take_deliveries(self, count: int) -> list[tuple[bytes, str]]:
        taken = self.wait_for_deliveries(count)
        with self.lock:
            self.deliveries.clear()
        return taken

    # --- the front server -------------------------------------------------------------------
    def _handler(self):
        servers = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: bytes, content_type="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self):
                body = self._body()
                if self.path == "/hook":  # localstripe's deliveries, kept for the test
                    with servers.lock:
                        servers.deliveries.append((body, self.headers["Stripe-Signature"]))
                    return self._answer(200, b"{}")
                if self.path == "/v1/checkout/sessions":
                    form = nested_form(body)
                    session_id = f"cs_test_{secrets.token_hex(12)}"
                    session = {
                        "id": session_id,
                        "object": "checkout.session",
                        "mode": form.get("mode"),
                        "customer": form.get("customer"),
                        "client_reference_id": form.get("client_reference_id"),
                        "metadata": form.get("metadata", {}),
                        "subscription_data": form.get("subscription_data", {}),
                        "line_items": form.get("line_items", []),
                        "success_url": form.get("success_url"),
                        "cancel_url": form.get("cancel_url"),
                        "status": "open",
                        "payment_status": "unpaid",
                        "payment_intent": None,
                        "payment_intent_data": form.get("payment_intent_data", {}),
                        "subscription": None,
                        "url": f"{servers.url}/pay/{session_id}",
                    }
                    servers.sessions[session_id] = session
                    return self._answer(200, json.dumps(session).encode())
                if self.path.startswith("/v1/checkout/sessions/") and self.path.endswith("/expire"):
                    session = servers.sessions.get(self.path.split("/")[4])
                    if session is None:
                        return self._answer(404, b'{"error": {"message": "No such session"}}')
                    if session["status"] == "open":
                        session["status"] = "expired"
                    return self._answer(200, json.dumps(session).encode())
                if self.path == "/v1/billing_portal/sessions":
                    form = nested_form(body)
                    session = {
                        "id": f"bps_{secrets.token_hex(8)}",
                        "object": "billing_portal.session",
                        "customer": form.get("customer"),
                        "return_url": form.get("return_url"),
                        "url": f"{servers.url}/portal/{form.get('customer')}",
                    }
                    return self._answer(200, json.dumps(session).encode())
                self._forward("POST", body)

            def do_GET(self):
                if self.path.startswith("/v1/credit_notes/"):
                    note = servers.credit_notes.get(self.path.split("/")[3].split("?")[0])
                    if note is None:
                        return self._answer(404, b'{"error": {"message": "No such note"}}')
                    return self._answer(200, json.dumps(note).encode())
                if self.path.startswith("/v1/checkout/sessions/"):
                    session = servers.sessions.get(self.path.split("/")[4].split("?")[0])
                    if session is None:
                        return self._answer(404, b'{"error": {"message": "No such session"}}')
                    return self._answer(200, json.dumps(session).encode())
                self._forward("GET", None)

            def do_DELETE(self):
                self._forward("DELETE", self._body())

            def _forward(self, method, body):
                headers = {"Authorization": self.headers.get("Authorization", "")}
                status, answer = servers.local_request(method, self.path, body, headers)
                if method == "GET" and status == 200:
                    answer = servers._overlay(self.path, answer)
                self._answer(status, answer)

        return Handler


WEBHOOK = "/api/billing/stripe/webhook"


def deliver(client, payload: bytes, signature: str):
    """Post one signed delivery to Berth's webhook, as Stripe does."""
    return client.post(
        WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def event_type(delivery) -> str:
    return json.loads(delivery[0])["type"]


def until(servers: StripeServers, *types: str) -> list[tuple[bytes, str]]:
    """Every delivery up to and including the events of ``types`` (localstripe sends a
    second after each change)."""
    wanted = set(types)
    for count in range(1, 200):
        got = servers.wait_for_deliveries(count)
        if wanted <= {event_type(d) for d in got}:
            return servers.take_deliveries(len(got))
    raise AssertionError(f"never delivered: {wanted}")
