"""/orders/, /orders/<uuid>/ and the receipt: the shopper's own orders only."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import AuditEvent, User
from payments import services
from payments.models import Order
from payments.receipts import ReceiptRenderer


def test_url_names(confirmed_order: Order) -> None:
    assert reverse("payments:orders") == "/orders/"
    assert reverse("payments:order_detail", args=[confirmed_order.pk]) == f"/orders/{confirmed_order.pk}/"
    assert reverse("payments:receipt", args=[confirmed_order.pk]) == f"/orders/{confirmed_order.pk}/receipt/"
    assert reverse("payments:receipt_pdf", args=[confirmed_order.pk]) == f"/orders/{confirmed_order.pk}/receipt.pdf"


@pytest.mark.parametrize("name", ["payments:orders", "payments:order_detail", "payments:receipt"])
def test_anonymous_is_sent_to_sign_in(client: Client, confirmed_order: Order, name: str) -> None:
    args = [] if name == "payments:orders" else [confirmed_order.pk]
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["payments:order_detail", "payments:receipt", "payments:receipt_pdf"])
def test_another_shoppers_order_is_404(client: Client, confirmed_order: Order, other_shopper: User, name: str) -> None:
    client.force_login(other_shopper)
    assert client.get(reverse(name, args=[confirmed_order.pk])).status_code == 404


def test_the_list_shows_placed_orders_only(
    shopper_client: Client, confirmed_order: Order, make_order, shopper, catalog
) -> None:
    unpaid = make_order(shopper, (catalog["lmn2"], 1))
    body = shopper_client.get("/orders/").content.decode()
    assert confirmed_order.reference in body
    assert unpaid.reference not in body
    assert "$74.97" in body


def test_the_list_query_count_does_not_grow_with_orders(
    shopper_client: Client, make_order, shopper, catalog, django_assert_max_num_queries
) -> None:
    from payments.tests.conftest import APPROVED

    for _ in range(6):
        order = make_order(shopper, (catalog["auto"], 1))
        services.order_pay(order=order, actor=shopper, card=APPROVED)
        shopper.cart.items.all().delete()
    with django_assert_max_num_queries(12):
        assert shopper_client.get("/orders/").status_code == 200


def test_the_detail_page_of_an_order_under_review_explains_the_hold(
    shopper_client: Client, letter_order: Order
) -> None:
    response = shopper_client.get(reverse("payments:order_detail", args=[letter_order.pk]))
    body = response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]
    assert "Under clinician review" in body
    assert "Letter issued" in body
    assert "nothing is charged yet" in body.lower() or "nothing charged yet" in body.lower()
    assert "Receipt" not in body
    assert AuditEvent.objects.filter(action="order.viewed", object_id=str(letter_order.pk)).count() == 1


def test_the_timeline_of_a_cancelled_order(shopper_client: Client, letter_order: Order) -> None:
    services.order_cancel_after_denial(order=letter_order, actor=None)
    body = shopper_client.get(reverse("payments:order_detail", args=[letter_order.pk])).content.decode()
    assert "Cancelled: letter not approved — nothing charged" in body
    assert "hold on your card is released" in body


def test_the_timeline_after_fulfilment_and_refund(shopper_client: Client, confirmed_order: Order, ops: User) -> None:
    services.order_items_mark_fulfilled(items=list(confirmed_order.items.all()), actor=ops)
    services.order_refund(order=confirmed_order, reason="Returned", actor=ops)
    body = shopper_client.get(reverse("payments:order_detail", args=[confirmed_order.pk])).content.decode()
    for label in ("Order placed", "Payment captured, order confirmed", "Shipped by the merchant", "Refunded"):
        assert label in body


def test_no_receipt_before_the_payment_is_captured(shopper_client: Client, letter_order: Order) -> None:
    assert shopper_client.get(reverse("payments:receipt", args=[letter_order.pk])).status_code == 404


def test_the_receipt_page_has_what_an_administrator_needs(shopper_client: Client, letter_order: Order) -> None:
    services.order_capture_after_approval(order=letter_order, actor=None)
    body = shopper_client.get(reverse("payments:receipt", args=[letter_order.pk])).content.decode()
    for expected in (
        "Sam Shopper",
        letter_order.reference,
        "Restwell Labs",
        "Cooling Sleep Pad",
        "Thermometer",
        "Eligible with LMN",
        "HSA/FSA-eligible (IIAS)",
        letter_order.items.get(name="Thermometer").gtin,
        "$698.98",
        "Visa ending in 4242",
        "Letter of Medical Necessity",
    ):
        assert expected in body, expected
    assert AuditEvent.objects.filter(action="receipt.viewed").count() == 1


@pytest.mark.parametrize("query", ["receipt_pdf", "receipt?format=pdf"])
def test_the_receipt_pdf_downloads_with_every_part(shopper_client: Client, letter_order: Order, query: str) -> None:
    services.order_capture_after_approval(order=letter_order, actor=None)
    url = (
        reverse("payments:receipt_pdf", args=[letter_order.pk])
        if query == "receipt_pdf"
        else reverse("payments:receipt", args=[letter_order.pk]) + "?format=pdf"
    )
    response = shopper_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"flexlmn-receipt-{letter_order.reference.lower()}.pdf" in response["Content-Disposition"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    for expected in (
        "Itemized receipt",
        "Sam Shopper",
        letter_order.reference,
        "Order date:",
        "Restwell Labs",
        "Cooling Sleep Pad",
        "Thermometer",
        "Eligible with LMN",
        "HSA/FSA-eligible (IIAS)",
        letter_order.items.get(name="Thermometer").gtin,
        "$649.00",
        "$24.99",
        "Amount paid",
        "$698.98",
        "Visa ending in 4242",
        "Letter of Medical Necessity",
    ):
        assert expected in text, expected
    assert AuditEvent.objects.filter(action="receipt.downloaded").count() == 1


def test_the_letter_verification_link_is_printed_where_one_applies(letter_order: Order, monkeypatch) -> None:
    services.order_capture_after_approval(order=letter_order, actor=None)
    monkeypatch.setattr(Order, "letter_verification_url", property(lambda self: "https://flexlmn.test/verify/abc123/"))
    _, _, pdf = ReceiptRenderer(letter_order).generate()
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "https://flexlmn.test/verify/abc123/" in text


def test_the_same_order_renders_the_same_bytes(confirmed_order: Order) -> None:
    first = ReceiptRenderer(confirmed_order).generate()[2]
    second = ReceiptRenderer(confirmed_order).generate()[2]
    assert first == second
    assert first.startswith(b"%PDF")


def test_a_refund_shows_on_the_receipt(confirmed_order: Order, ops: User) -> None:
    item = confirmed_order.items.get()
    services.order_refund(order=confirmed_order, lines={item.pk: 1}, reason="One arrived broken", actor=ops)
    confirmed_order.refresh_from_db()
    _, _, pdf = ReceiptRenderer(confirmed_order).generate()
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Refunded" in text and "One arrived broken" in text and "Net paid" in text


def test_the_review_deadline_is_the_sites_local_date(shopper_client: Client, letter_order: Order) -> None:
    """A hold lapsing late in the evening in New York is already the next day in UTC: the page says the local day."""
    from datetime import UTC, datetime

    # 10:30 pm on March 8 in New York (EDT) is 02:30 on March 9 in UTC.
    letter_order.payments.update(capture_before=datetime(2026, 3, 9, 2, 30, tzinfo=UTC))
    body = shopper_client.get(reverse("payments:order_detail", args=[letter_order.pk])).content.decode()
    assert "If the letter is approved by March 8 we capture the payment" in body
    assert "March 9" not in body
    # A time shown to people says which time zone it is in.
    assert "The hold lasts until Mar 8, 10:30 p.m. EDT." in body
    import re

    placed = timezone.localtime(letter_order.placed_at)
    assert re.search(rf"Placed {placed:%B} {placed.day}, {placed.year}, [0-9:]+ [ap]\.m\. E[SD]T", body)
