"""Journey 7 of issue 9: a merchant's own site sells through FlexLMN's API.

The merchant is a small HTTP server inside the test (127.0.0.1): its "script"
creates a checkout session with its secret key, the shopper's browser pays on
the hosted page and comes back to the merchant's success URL, and the
merchant's webhook endpoint receives ``checkout_session.completed`` with a
``FlexLMN-Signature`` that this test verifies the way docs/INTEGRATION.md tells
merchants to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from .flows import fill_contact_details, sign_in
from .support import PASSWORD, TEST_CARD, LiveSite, Screens, Visitor, wait_until

EMAIL = "noor.haddad@example.test"
NAME = "Noor Haddad"
MERCHANT = "SleepMe"
ITEM = "Digital thermometer"


@dataclass
class MerchantSite:
    """The merchant's web server: a thank-you page and a webhook endpoint that records what it receives."""

    url: str = ""
    webhooks: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    thanked: list[str] = field(default_factory=list)


def _handler(merchant: MerchantSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            merchant.thanked.append(self.path)
            body = b"<!doctype html><html lang=en><title>Thank you</title><h1>Thank you for your order</h1></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            merchant.webhooks.append(({k.lower(): v for k, v in self.headers.items()}, raw))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def merchant_site() -> Iterator[MerchantSite]:
    merchant = MerchantSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(merchant))
    merchant.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield merchant
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Credentials:
    api_key: str
    signing_secret: str


@pytest.fixture
def credentials(merchant_site: MerchantSite, orm: None) -> Credentials:
    """What FlexLMN's ops give the merchant: a test-mode secret key and a webhook signing secret."""
    from allauth.account.models import EmailAddress

    from accounts.models import Role
    from accounts.services import user_create
    from marketplace.models import Merchant
    from payments.api.keys import merchant_api_key_create
    from payments.merchant_webhooks import merchant_webhook_endpoint_create

    merchant = Merchant.objects.get(name=MERCHANT)
    key = merchant_api_key_create(merchant=merchant, name="e2e shop server", mode="test")
    _, secret = merchant_webhook_endpoint_create(
        merchant=merchant, url=f"{merchant_site.url}/hooks/flexlmn", mode="test", description="e2e"
    )
    user = user_create(email=EMAIL, password=PASSWORD, role=Role.SHOPPER, first_name="Noor", last_name="Haddad")
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    return Credentials(api_key=key.secret, signing_secret=secret)


@pytest.fixture
def noor(browser: Browser, site: LiveSite, screens: Screens) -> Iterator[Visitor]:
    visitor = Visitor(browser, site, screens, "noor")
    yield visitor
    visitor.close()


def _create_session(site: LiveSite, merchant_site: MerchantSite, api_key: str) -> dict[str, Any]:
    """The merchant's server-side script: one POST with the secret key (urllib, as any script would)."""
    body = {
        "line_items": [
            {
                "name": ITEM,
                "unit_price_cents": 2499,
                "quantity": 1,
                "eligibility": "auto_substantiation",
                "gtin": "2000000090016",
                "merchant_reference": "THERMO-1",
            }
        ],
        "customer_email": EMAIL,
        "success_url": f"{merchant_site.url}/thanks?session={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{merchant_site.url}/cart",
        "metadata": {"order_ref": "A-1001"},
    }
    request = urllib.request.Request(  # noqa: S310 (the live server on 127.0.0.1)
        f"{site.url}/api/v1/checkout_sessions",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        },
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
        assert response.status == 201
        created: dict[str, Any] = json.loads(response.read())
    return created


def verify_signature(body: bytes, header: str, secret: str, tolerance: int = 300) -> dict[str, Any]:
    """docs/INTEGRATION.md's check: HMAC-SHA256 of "<t>.<raw body>" with the signing secret, a fresh t."""
    pairs = [item.split("=", 1) for item in header.split(",")]
    timestamp = int(next(value for key, value in pairs if key.strip() == "t"))
    signatures = [value for key, value in pairs if key.strip() == "v1"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert any(hmac.compare_digest(expected, signature) for signature in signatures), "signature mismatch"
    assert abs(time.time() - timestamp) <= tolerance, "stale signature"
    event: dict[str, Any] = json.loads(body)
    return event


def test_journey_7_a_merchant_checkout_through_the_api_ends_on_the_merchant_site_with_a_signed_webhook(
    site: LiveSite, merchant_site: MerchantSite, credentials: Credentials, noor: Visitor
) -> None:
    session = _create_session(site, merchant_site, credentials.api_key)
    assert session["status"] == "open"
    assert session["url"] == f"{site.url}/pay/{session['id']}/"

    # The shopper follows the merchant's redirect, signs in to FlexLMN and pays on the hosted page.
    page = noor.page
    sign_in(noor, email=EMAIL, next_path=f"/pay/{session['id']}/")
    expect(page).to_have_url(re.compile(rf"/pay/{session['id']}/"))
    expect(page.locator("main")).to_contain_text(MERCHANT)
    noor.look("hosted-details", axe=True)
    fill_contact_details(page, name=NAME)
    expect(page.get_by_role("heading", name="Pay with HSA/FSA")).to_be_visible()
    noor.look("hosted-pay", axe=True)
    page.get_by_label("Card number").fill(TEST_CARD)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("Security code").fill("123")
    page.get_by_label("Name on card").fill(NAME)
    page.get_by_role("button", name=re.compile(r"^Pay \$24\.99$")).click()

    # Back on the merchant's site, at its success URL with the session id filled in.
    expect(page).to_have_url(f"{merchant_site.url}/thanks?session={session['id']}")
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    noor.assert_clean()

    # The merchant's endpoint received the signed event.
    def completed() -> list[tuple[dict[str, str], bytes]]:
        return [
            (h, b) for h, b in merchant_site.webhooks if h.get("flexlmn-event-type") == "checkout_session.completed"
        ]

    wait_until(lambda: bool(completed()), timeout=30, what="the checkout_session.completed webhook")
    headers, raw = completed()[0]
    event = verify_signature(raw, headers["flexlmn-signature"], credentials.signing_secret)
    assert event["type"] == "checkout_session.completed"
    assert event["data"]["object"]["id"] == session["id"]
    assert event["data"]["object"]["status"] == "complete"
    assert headers["flexlmn-event-id"] == event["id"]
    # A forged body does not verify.
    with pytest.raises(AssertionError, match="signature mismatch"):
        verify_signature(
            raw.replace(b"complete", b"canceled"), headers["flexlmn-signature"], credentials.signing_secret
        )
