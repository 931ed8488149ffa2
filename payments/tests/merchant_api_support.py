"""Helpers for the merchant API tests: keys, a JSON client, a payload, and a local webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.test import Client

from marketplace.models import Merchant
from marketplace.tests.factories import MerchantFactory, make_gtin
from payments.api.keys import merchant_api_key_create
from payments.merchant_webhooks import merchant_webhook_endpoint_create
from payments.models import MerchantWebhookEndpoint

API = "/api/v1"


def new_key(merchant: Merchant | None = None, *, mode: str = "test", name: str = "Checkout") -> tuple[Merchant, str]:
    """A merchant (new unless given) and a fresh secret key for it."""
    merchant = merchant or MerchantFactory()
    return merchant, merchant_api_key_create(merchant=merchant, name=name, mode=mode).secret


class ApiClient:
    """Django's test client speaking JSON with a bearer key."""

    def __init__(self, client: Client, secret: str | None) -> None:
        self.client = client
        self.secret = secret

    def _headers(self, idempotency_key: str | None = None, **extra: str) -> dict[str, str]:
        headers: dict[str, str] = dict(extra)
        if self.secret is not None:
            headers["Authorization"] = f"Bearer {self.secret}"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(API + path, params or {}, headers=self._headers(**headers))

    def post(self, path: str, body: Any = None, *, idempotency_key: str | None = None, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            API + path, data, content_type="application/json", headers=self._headers(idempotency_key)
        )


def session_payload(**overrides: Any) -> dict[str, Any]:
    """A valid create request with one inline auto-substantiated item (no letter needed)."""
    payload: dict[str, Any] = {
        "line_items": [
            {
                "name": "Digital thermometer",
                "unit_price_cents": 2_499,
                "quantity": 2,
                "eligibility": "auto_substantiation",
                "gtin": make_gtin(1),
                "merchant_reference": "THERMO-1",
            }
        ],
        "customer_email": "sam.shopper@example.test",
        "success_url": "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example/cart",
        "metadata": {"order_ref": "A-1001"},
    }
    payload.update(overrides)
    return payload


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "param"}, body
    return dict(body["error"])


# --------------------------------------------------------------------------- a merchant's webhook receiver


@dataclass
class Received:
    headers: Any  # the request's headers (case-insensitive, like every web framework's)
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What a local HTTP server got; ``answer`` decides its status code per request."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answer: Callable[[Received], int] = lambda received: 200

    def events(self) -> list[Any]:
        return [received.json() for received in self.requests]

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]


@contextmanager
def webhook_receiver(
    answer: Callable[[Received], int] | None = None, path: str = "/hooks/flexlmn"
) -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1 (a free port) in a thread, for the duration of the block."""
    receiver = Receiver(url="")
    if answer is not None:
        receiver.answer = answer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            received = Received(headers=self.headers, body=self.rfile.read(length))
            receiver.requests.append(received)
            status = receiver.answer(received)
            payload = b'{"received": true}' if status < 300 else b'{"error": "nope"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def endpoint_for(
    merchant: Merchant, url: str, *, mode: str = "test", events: list[str] | None = None
) -> tuple[MerchantWebhookEndpoint, str]:
    return merchant_webhook_endpoint_create(merchant=merchant, url=url, mode=mode, enabled_events=events)


LETTER_ITEM = {
    "name": "Cooling Sleep Pad",
    "unit_price_cents": 64_900,
    "eligibility": "lmn_required",
    "category": "sleep-home-wellness",
}


def letter_session_awaiting_review(api: ApiClient, shopper: Any) -> tuple[Any, Any, Any]:
    """(session, order, consultation): a letter item paid by a shopper who answered the health questions.

    Needs the sleep category with a questionnaire; the case then waits for review in the key's mode.
    """
    from consultations.models import Consultation
    from consultations.tests.conftest import complete_intake
    from payments import services
    from payments.models import CheckoutSession
    from payments.tests.conftest import APPROVED, DETAILS

    created = api.post("/checkout_sessions", session_payload(line_items=[LETTER_ITEM]))
    session = CheckoutSession.objects.get(pk=created.json()["id"])
    session = services.checkout_session_claim(session=session, user=shopper)
    order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
    services.checkout_next_step_url(session=session)
    consultation = Consultation.objects.get(checkout_session=session)
    complete_intake(consultation, state="TX")
    assert services.order_pay(order=order, actor=shopper, card=APPROVED).outcome == "authorized"
    return session, order, consultation
