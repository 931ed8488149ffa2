"""The merchant's whole flow: API session → hosted page (branded) → pay → success_url → signed webhook that verifies."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.models import User
from consultations.models import Consultation
from consultations.tests.conftest import complete_intake
from consultations.tests.factories import ClinicalTemplateFactory, QuestionnaireFactory
from marketplace.models import Category
from marketplace.tests.factories import CategoryFactory, MerchantFactory
from payments.models import Order, OrderStatus
from payments.tests.conftest import CARD_POST, DETAILS_POST
from payments.tests.merchant_api_support import (
    ApiClient,
    endpoint_for,
    new_key,
    session_payload,
    webhook_receiver,
)
from payments.tests.test_merchant_docs import documented_python_verifier

pytestmark = pytest.mark.django_db


@pytest.fixture
def sleep(db: None) -> Category:
    category = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    ClinicalTemplateFactory(category=category)
    QuestionnaireFactory(category=category)
    return category


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (15, 118, 110)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_api_session_is_paid_on_the_branded_page_and_ends_in_a_verified_webhook(
    client: Client, shopper: User, django_capture_on_commit_callbacks: Any
) -> None:
    merchant = MerchantFactory(name="Restwell Labs", logo=SimpleUploadedFile("logo.png", _png(), "image/png"))
    merchant, secret = new_key(merchant)
    verify = documented_python_verifier()
    verified: list[dict[str, Any]] = []

    def answer(received: Any) -> int:
        verified.append(verify(received.body, received.headers["FlexLMN-Signature"], signing_secret))
        return 200

    with webhook_receiver(answer) as receiver:
        _endpoint, signing_secret = endpoint_for(merchant, receiver.url)
        created = ApiClient(client, secret).post("/checkout_sessions", session_payload(), idempotency_key="order-1")
        assert created.status_code == 201
        session = created.json()
        path = urlsplit(session["url"]).path
        assert path == f"/pay/{session['id']}/"

        client.force_login(shopper)
        page = client.get(path)
        html = page.content.decode()
        assert page.status_code == 200
        assert "Restwell Labs" in html and f"/shop/m/{merchant.slug}/logo/" in html
        assert "Cancel and return to Restwell Labs" in html and 'href="https://shop.example/cart"' in html
        assert "Test mode" in html

        details = client.post(path, DETAILS_POST)
        assert details.status_code == 302 and details["Location"] == path
        payment_page = client.get(path)
        assert "Pay $49.98" in payment_page.content.decode()
        # The form's answer redirects to the merchant: the page's CSP must allow that redirect.
        assert "form-action 'self' https://shop.example" in payment_page["Content-Security-Policy"]

        with django_capture_on_commit_callbacks(execute=True):
            paid = client.post(path, CARD_POST)
        assert paid.status_code == 302
        assert paid["Location"] == f"https://shop.example/thanks?session={session['id']}"

    assert receiver.types() == ["checkout_session.completed"]
    assert verified[0]["data"]["object"] == {
        "id": session["id"],
        "object": "checkout_session",
        "livemode": False,
        "status": "complete",
        "payment_status": "paid",
    }
    fetched = ApiClient(client, secret).get(f"/checkout_sessions/{session['id']}").json()
    assert (fetched["status"], fetched["payment_status"]) == ("complete", "paid")
    order = Order.objects.get(checkout_session_id=session["id"])
    assert order.status == OrderStatus.CONFIRMED and order.total_cents == 4_998


def test_a_letter_item_goes_through_the_intake_and_reaches_awaiting_review(
    client: Client, shopper: User, sleep: Category, django_capture_on_commit_callbacks: Any
) -> None:
    merchant, secret = new_key(MerchantFactory(name="Restwell Labs"))
    payload = session_payload(
        line_items=[
            {
                "name": "Cooling Sleep Pad",
                "unit_price_cents": 64_900,
                "eligibility": "lmn_required",
                "category": "sleep-home-wellness",
            }
        ]
    )
    with webhook_receiver() as receiver:
        _endpoint, signing_secret = endpoint_for(merchant, receiver.url)
        session = ApiClient(client, secret).post("/checkout_sessions", payload).json()
        assert session["requires_letter"] is True
        path = f"/pay/{session['id']}/"
        client.force_login(shopper)
        client.get(path)
        details = client.post(path, DETAILS_POST)
        consultation = Consultation.objects.get(checkout_session_id=session["id"])
        # The letter item sends the shopper to the same intake as the Flex Shop checkout.
        assert details["Location"] == f"/consultations/{consultation.pk}/"
        assert client.get(path)["Location"] == f"/consultations/{consultation.pk}/"
        complete_intake(consultation)
        assert "Authorize $649.00" in client.get(path).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            paid = client.post(path, CARD_POST)
        assert paid["Location"] == f"https://shop.example/thanks?session={session['id']}"

    verify = documented_python_verifier()
    event = verify(receiver.requests[0].body, receiver.requests[0].headers["FlexLMN-Signature"], signing_secret)
    assert event["type"] == "checkout_session.awaiting_review"
    assert event["data"]["object"]["status"] == "awaiting_review"
    assert event["data"]["object"]["payment_status"] == "authorized"
    consultation.refresh_from_db()
    assert consultation.status == "submitted"


def test_a_shopper_without_an_account_is_sent_to_sign_in_and_back(client: Client) -> None:
    _merchant, secret = new_key()
    session = ApiClient(client, secret).post("/checkout_sessions", session_payload()).json()
    response = client.get(f"/pay/{session['id']}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/") and session["id"] in response["Location"]


def test_a_flex_shop_session_still_returns_to_the_order_page(
    shopper_client: Client, shopper: User, make_session: Any, catalog: dict[str, Any]
) -> None:
    session = make_session(shopper, (catalog["auto"], 1))
    path = f"/pay/{session.pk}/"
    shopper_client.post(path, DETAILS_POST)
    page = shopper_client.get(path)
    assert "merchant-brand-name" not in page.content.decode()
    assert "form-action 'self';" in page["Content-Security-Policy"] + ";"
    paid = shopper_client.post(path, CARD_POST)
    order = Order.objects.get(checkout_session=session)
    assert paid["Location"] == f"/orders/{order.pk}/"
