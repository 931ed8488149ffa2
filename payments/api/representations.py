"""How the API and the webhooks describe checkout sessions, refunds and products (plain dicts).

A session's API ``status`` folds the session, its order and its payment into the
five states a merchant acts on; :func:`session_status_annotation` is the same
rule in SQL, for filtering lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Case, Prefetch, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from marketplace.models import Product

from ..models import (
    CheckoutLineItem,
    CheckoutSession,
    CheckoutStatus,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundItem,
)
from ..selectors import order_payment

PAID_ORDER_STATUSES = (
    OrderStatus.CONFIRMED,
    OrderStatus.FULFILLED,
    OrderStatus.REFUNDED,
    OrderStatus.PARTIALLY_REFUNDED,
)
REFUNDABLE_ORDER_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED)

_PAYMENT_STATUS = {
    PaymentStatus.AUTHORIZED: "authorized",
    PaymentStatus.CAPTURED: "paid",
    PaymentStatus.PARTIALLY_REFUNDED: "partially_refunded",
    PaymentStatus.REFUNDED: "refunded",
    PaymentStatus.CANCELED: "canceled",
    PaymentStatus.EXPIRED: "expired",
}


def _order_of(session: CheckoutSession) -> Order | None:
    try:
        return session.order
    except Order.DoesNotExist:
        return None


def session_status(session: CheckoutSession, order: Order | None, now: datetime | None = None) -> str:
    """``open | awaiting_review | complete | canceled | expired`` (the same rule as the SQL annotation)."""
    now = now or timezone.now()
    if order is not None:
        if order.status == OrderStatus.AWAITING_REVIEW:
            return "awaiting_review"
        if order.status in PAID_ORDER_STATUSES:
            return "complete"
        if order.status == OrderStatus.CANCELLED:
            return "canceled"
    if session.status == CheckoutStatus.CANCELED:
        return "canceled"
    if session.status == CheckoutStatus.EXPIRED or (
        session.status == CheckoutStatus.OPEN and session.expires_at <= now
    ):
        return "expired"
    return "open"


def session_status_annotation(now: datetime | None = None) -> Case:
    now = now or timezone.now()
    return Case(
        When(order__status=OrderStatus.AWAITING_REVIEW, then=Value("awaiting_review")),
        When(order__status__in=PAID_ORDER_STATUSES, then=Value("complete")),
        When(Q(order__status=OrderStatus.CANCELLED) | Q(status=CheckoutStatus.CANCELED), then=Value("canceled")),
        When(
            Q(status=CheckoutStatus.EXPIRED) | Q(status=CheckoutStatus.OPEN, expires_at__lte=now),
            then=Value("expired"),
        ),
        default=Value("open"),
    )


def payment_status(order: Order | None) -> str:
    payment = order_payment(order) if order is not None else None
    if payment is None:
        return "unpaid"
    return _PAYMENT_STATUS.get(PaymentStatus(payment.status), "unpaid")


def session_queryset() -> QuerySet[CheckoutSession]:
    """Sessions with everything the representation reads, in a fixed number of queries."""
    return CheckoutSession.objects.select_related("merchant_checkout", "order").prefetch_related(
        Prefetch(
            "line_items",
            queryset=CheckoutLineItem.objects.select_related("product", "category").order_by("position", "id"),
        ),
        Prefetch("order__items", queryset=OrderItem.objects.order_by("position", "id")),
        Prefetch("order__payments", queryset=Payment.objects.order_by("-created_at")),
        Prefetch(
            "order__refunds",
            queryset=Refund.objects.order_by("created_at").prefetch_related(
                Prefetch("items", queryset=RefundItem.objects.select_related("order_item"))
            ),
        ),
    )


def _or_none(value: str) -> str | None:
    return value or None


def hosted_url(session: CheckoutSession) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("payments:pay", args=[session.pk])


def refund_data(refund: Refund, session_id: object) -> dict[str, Any]:
    return {
        "id": str(refund.pk),
        "object": "refund",
        "checkout_session": str(session_id),
        "amount_cents": refund.amount_cents,
        "status": refund.status,
        "reason": refund.reason,
        "created": refund.created_at,
        "line_items": [
            {"position": item.order_item.position, "quantity": item.quantity, "amount_cents": item.amount_cents}
            for item in refund.items.all()
        ],
    }


def session_data(session: CheckoutSession, now: datetime | None = None) -> dict[str, Any]:
    """The API's checkout session object. Load the session through :func:`session_queryset`."""
    order = _order_of(session)
    items = {item.position: item for item in order.items.all()} if order is not None else {}
    lines = []
    for line in session.line_items.all():
        item = items.get(line.position)
        lines.append(
            {
                "position": line.position,
                "product": _or_none(line.product.merchant_reference) if line.product is not None else None,
                "name": line.name,
                "merchant_reference": _or_none(line.merchant_reference),
                "category": line.category.slug if line.category is not None else None,
                "unit_price_cents": line.unit_price_cents,
                "quantity": line.quantity,
                "amount_total_cents": line.line_total_cents,
                "gtin": _or_none(line.gtin),
                "eligibility": line.eligibility,
                "quantity_refunded": item.refunded_quantity if item is not None else 0,
                "amount_refunded_cents": item.refunded_cents if item is not None else 0,
            }
        )
    try:
        livemode = session.merchant_checkout.livemode
    except CheckoutSession.merchant_checkout.RelatedObjectDoesNotExist:
        livemode = False
    status = session_status(session, order, now)
    return {
        "id": str(session.pk),
        "object": "checkout_session",
        "livemode": livemode,
        "url": hosted_url(session),
        "status": status,
        "payment_status": payment_status(order),
        "cancellation_reason": (order.cancel_reason or None) if order is not None and status == "canceled" else None,
        "requires_letter": any(line.needs_letter for line in session.line_items.all()),
        "customer_email": _or_none(session.customer_email),
        "success_url": session.success_url,
        "cancel_url": _or_none(session.cancel_url),
        "metadata": {str(k): str(v) for k, v in (session.metadata or {}).items()},
        "currency": session.currency,
        "amount_total_cents": sum(line["amount_total_cents"] for line in lines),
        "amount_refunded_cents": order.refunded_cents if order is not None else 0,
        "line_items": lines,
        "refunds": [refund_data(refund, session.pk) for refund in order.refunds.all()] if order is not None else [],
        "created": session.created_at,
        "expires_at": session.expires_at,
        "completed_at": session.completed_at,
    }


def session_summary(session: CheckoutSession) -> dict[str, Any]:
    """Ids and statuses only: what a webhook says about a session (no items, no amounts, no customer)."""
    order = _order_of(session)
    try:
        livemode = session.merchant_checkout.livemode
    except CheckoutSession.merchant_checkout.RelatedObjectDoesNotExist:
        livemode = False
    return {
        "id": str(session.pk),
        "object": "checkout_session",
        "livemode": livemode,
        "status": session_status(session, order),
        "payment_status": payment_status(order),
    }


def product_data(product: Product) -> dict[str, Any]:
    sellable = product.is_sellable
    return {
        "id": str(product.pk),
        "object": "product",
        "merchant_reference": _or_none(product.merchant_reference),
        "name": product.name,
        "category": product.category.slug,
        "price_cents": product.price_cents,
        "eligibility": product.eligibility,
        "gtin": _or_none(product.gtin),
        "description": product.description,
        "url": _or_none(product.merchant_url),
        "active": product.active,
        "sellable": sellable,
        "shop_url": settings.SITE_URL.rstrip("/") + product.get_absolute_url() if sellable else None,
        "created": product.created_at,
        "updated": product.updated_at,
    }
