"""Ops in admin: order filters, the refund page, fulfilment actions."""

from __future__ import annotations

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from payments.models import Order, OrderStatus


def _ops_client(client: Client, ops: User) -> Client:
    client.force_login(ops)
    return client


def test_orders_list_filters_by_status(client: Client, ops: User, confirmed_order: Order, letter_order: Order) -> None:
    client = _ops_client(client, ops)
    response = client.get(reverse("admin:payments_order_changelist") + "?status__exact=awaiting_review")
    body = response.content.decode()
    assert response.status_code == 200
    assert letter_order.reference in body
    assert confirmed_order.reference not in body


def test_the_order_page_opens(client: Client, ops: User, confirmed_order: Order) -> None:
    response = _ops_client(client, ops).get(reverse("admin:payments_order_change", args=[confirmed_order.pk]))
    assert response.status_code == 200
    assert "Refund this order" in response.content.decode()


def test_the_refund_action_leads_to_the_refund_page(client: Client, ops: User, confirmed_order: Order) -> None:
    response = _ops_client(client, ops).post(
        reverse("admin:payments_order_changelist"),
        {"action": "refund_action", "_selected_action": [str(confirmed_order.pk)]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:payments_order_refund", args=[confirmed_order.pk])


def test_refunding_chosen_items_from_the_refund_page(
    client: Client, ops: User, confirmed_order: Order, django_capture_on_commit_callbacks
) -> None:
    client = _ops_client(client, ops)
    url = reverse("admin:payments_order_refund", args=[confirmed_order.pk])
    item = confirmed_order.items.get()
    page = client.get(url)
    assert page.status_code == 200
    assert "3 of 3 refundable at $24.99 each" in page.content.decode()
    missing_reason = client.post(url, {f"item_{item.pk}": "1", "reason": ""})
    assert missing_reason.status_code == 200
    nothing_chosen = client.post(url, {"reason": "x"})
    assert "choose a quantity" in nothing_chosen.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {f"item_{item.pk}": "1", "reason": "One arrived broken"})
    assert done.status_code == 302
    confirmed_order.refresh_from_db()
    assert confirmed_order.status == OrderStatus.PARTIALLY_REFUNDED
    assert confirmed_order.refunded_cents == 2_499
    assert len(mail.outbox) == 1


def test_refunding_the_whole_order_from_the_refund_page(client: Client, ops: User, confirmed_order: Order) -> None:
    client = _ops_client(client, ops)
    url = reverse("admin:payments_order_refund", args=[confirmed_order.pk])
    client.post(url, {"whole_order": "on", "reason": "Never delivered"})
    confirmed_order.refresh_from_db()
    assert confirmed_order.status == OrderStatus.REFUNDED


def test_refunding_an_order_under_review_shows_why_not(client: Client, ops: User, letter_order: Order) -> None:
    client = _ops_client(client, ops)
    response = client.post(
        reverse("admin:payments_order_refund", args=[letter_order.pk]), {"whole_order": "on", "reason": "x"}
    )
    assert response.status_code == 200
    assert "nothing to refund" in response.content.decode()


def test_a_shopper_cannot_open_the_refund_page(client: Client, shopper: User, confirmed_order: Order) -> None:
    client.force_login(shopper)
    response = client.get(reverse("admin:payments_order_refund", args=[confirmed_order.pk]))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_merchants_items_are_marked_fulfilled_from_the_item_list(
    client: Client, ops: User, confirmed_order: Order
) -> None:
    client = _ops_client(client, ops)
    item = confirmed_order.items.get()
    response = client.post(
        reverse("admin:payments_orderitem_changelist"),
        {"action": "mark_fulfilled_action", "_selected_action": [str(item.pk)]},
        follow=True,
    )
    assert "1 item(s) marked fulfilled." in response.content.decode()
    confirmed_order.refresh_from_db()
    assert confirmed_order.status == OrderStatus.FULFILLED


def test_read_only_admin_pages_open(client: Client, ops: User, confirmed_order: Order) -> None:
    client = _ops_client(client, ops)
    for name in ("payment", "refund", "checkoutsession", "providerevent", "orderitem"):
        assert client.get(reverse(f"admin:payments_{name}_changelist")).status_code == 200


def test_a_double_submitted_refund_refunds_once(
    client: Client, ops: User, confirmed_order: Order, django_capture_on_commit_callbacks
) -> None:
    """The refund form posted twice (double-click, or back and resubmit) must not refund the item twice."""
    client = _ops_client(client, ops)
    url = reverse("admin:payments_order_refund", args=[confirmed_order.pk])
    item = confirmed_order.items.get()
    page = client.get(url)
    data = {f"item_{item.pk}": "1", "reason": "One arrived broken", "seen_refunded_cents": "0"}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, data)
        second = client.post(url, data, follow=True)
    assert first.status_code == 302
    confirmed_order.refresh_from_db()
    assert confirmed_order.refunded_cents == 2_499
    assert confirmed_order.refunds.count() == 1
    assert len(mail.outbox) == 1
    assert second.redirect_chain[-1][0] == reverse("admin:payments_order_change", args=[confirmed_order.pk])
    assert "nothing more was refunded" in second.content.decode()
    # The page carries what it showed as refunded, so a resubmit is recognised.
    assert 'name="seen_refunded_cents" value="0"' in page.content.decode()
