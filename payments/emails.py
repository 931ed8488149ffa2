"""Payment emails: one function per kind, three templates each under templates/emails/payments/.

Each says what happened and what comes next, with one link built from SITE_URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from flexlmn.emails import email_message

from .models import Order, Refund
from .selectors import order_payment


def _send(kind: str, *, to: list[str], context: dict[str, Any]) -> None:
    email_message(f"emails/payments/{kind}", to=to, context=context).send()


def _order_context(order: Order) -> dict[str, Any]:
    return {
        "order": order,
        "items": list(order.items.all()),
        "payment": order_payment(order),
        "order_url": settings.SITE_URL + reverse("payments:order_detail", args=[order.pk]),
        "name": (order.buyer_name or order.shopper.first_name or "there").split()[0],
    }


def _shopper_address(order: Order) -> list[str]:
    return [order.buyer_email or order.shopper.email]


def send_order_confirmed(order: Order) -> None:
    """Payment captured: the order is confirmed, with a link to the order and its receipt."""
    context = _order_context(order)
    context["receipt_url"] = settings.SITE_URL + reverse("payments:receipt", args=[order.pk])
    _send("order_confirmed", to=_shopper_address(order), context=context)


def send_order_under_review(order: Order) -> None:
    """A letter order is placed: a hold is on the card, nothing is charged until a clinician approves."""
    _send("order_under_review", to=_shopper_address(order), context=_order_context(order))


def send_order_cancelled(order: Order) -> None:
    """The order is cancelled and the hold released: nothing was charged."""
    _send("order_cancelled", to=_shopper_address(order), context=_order_context(order))


def send_hold_expired(order: Order) -> None:
    """The hold lapsed before the review ended: the order is cancelled, nothing was charged."""
    context = _order_context(order)
    context["shop_url"] = settings.SITE_URL + reverse("marketplace:shop")
    _send("hold_expired", to=_shopper_address(order), context=context)


def send_refund_issued(refund: Refund) -> None:
    """Money is on its way back: how much, for which items, and when it arrives."""
    order = refund.order
    context = _order_context(order)
    context.update(refund=refund, refund_items=list(refund.items.select_related("order_item")))
    _send("refund_issued", to=_shopper_address(order), context=context)


def send_ops_hold_expiring(order: Order) -> None:
    """Tell ops that an order's hold lapses within 24 hours while it still waits for review."""
    context = _order_context(order)
    context["admin_url"] = settings.SITE_URL + reverse("admin:payments_order_change", args=[order.pk])
    _send("ops_hold_expiring", to=[settings.OPS_EMAIL], context=context)
