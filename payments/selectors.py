"""Reads for payments: orders for a shopper, timelines, letter categories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import User
from marketplace.models import Category, Eligibility

from .models import (
    LIVE_PAYMENT_STATUSES,
    CheckoutSession,
    Order,
    OrderCancelReason,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
)


def orders_for_shopper(user: User) -> QuerySet[Order]:
    """A shopper's placed orders (a card was authorized), newest first, with their items."""
    return (
        Order.objects.filter(shopper=user)
        .exclude(status=OrderStatus.AWAITING_PAYMENT)
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("position", "id")))
        .order_by("-created_at")
    )


def order_payment(order: Order) -> Payment | None:
    """The payment that holds or moved money for the order (at most one), else the latest attempt."""
    payments = sorted(order.payments.all(), key=lambda p: p.created_at, reverse=True)
    for payment in payments:
        if payment.status in LIVE_PAYMENT_STATUSES:
            return payment
    for payment in payments:
        if payment.status in (PaymentStatus.EXPIRED, PaymentStatus.CANCELED):
            return payment
    return payments[0] if payments else None


def order_hold_expires_at(order: Order) -> datetime | None:
    """When the order's card hold lapses (the clinician's review deadline), if it is held now."""
    payment = order.payments.filter(status=PaymentStatus.AUTHORIZED).first()
    return payment.capture_before if payment else None


def order_letter_categories(order: Order) -> list[Category]:
    """The categories of the order's items that need a Letter of Medical Necessity, in item order."""
    seen: dict[object, Category] = {}
    for item in order.items.select_related("category").filter(eligibility=Eligibility.LMN_REQUIRED):
        if item.category is not None and item.category_id not in seen:
            seen[item.category_id] = item.category
    return list(seen.values())


def checkout_session_letter_categories(session: CheckoutSession) -> list[Category]:
    """The same for a checkout session, before its order exists."""
    seen: dict[object, Category] = {}
    for line in session.line_items.select_related("category").filter(eligibility=Eligibility.LMN_REQUIRED):
        if line.category is not None and line.category_id not in seen:
            seen[line.category_id] = line.category
    return list(seen.values())


@dataclass(frozen=True)
class TimelineStep:
    key: str
    label: str
    at: datetime | None
    done: bool
    current: bool = False
    tone: str = "default"


def order_timeline(order: Order, payment: Payment | None) -> list[TimelineStep]:
    """The order's story for the shopper: placed, under review, letter issued, confirmed, fulfilled, and how it ended."""
    steps: list[TimelineStep] = [TimelineStep("placed", "Order placed", order.placed_at, order.placed_at is not None)]
    if order.requires_letter:
        reviewed = order.confirmed_at is not None
        steps.append(
            TimelineStep(
                "review",
                "Under clinician review",
                order.placed_at,
                order.placed_at is not None,
                current=order.status == OrderStatus.AWAITING_REVIEW,
            )
        )
        if order.status != OrderStatus.CANCELLED:
            steps.append(TimelineStep("letter", "Letter issued", order.confirmed_at, reviewed))
    if order.status == OrderStatus.CANCELLED:
        labels: dict[str, str] = {
            OrderCancelReason.HOLD_EXPIRED: "Cancelled: the card hold expired",
            OrderCancelReason.LETTER_DENIED: "Cancelled: letter not approved",
        }
        label = labels.get(str(order.cancel_reason), "Cancelled")
        steps.append(TimelineStep("cancelled", f"{label} — nothing charged", order.cancelled_at, True, True, "danger"))
        return steps
    steps.append(
        TimelineStep(
            "confirmed",
            "Payment captured, order confirmed",
            order.confirmed_at,
            order.confirmed_at is not None,
            current=order.status == OrderStatus.CONFIRMED,
        )
    )
    steps.append(
        TimelineStep(
            "fulfilled",
            "Shipped by the merchant",
            order.fulfilled_at,
            order.fulfilled_at is not None,
            current=order.status == OrderStatus.FULFILLED,
        )
    )
    if order.refunded_cents:
        label = "Refunded" if order.status == OrderStatus.REFUNDED else "Partly refunded"
        last = order.refunds.order_by("-created_at").first()
        steps.append(TimelineStep("refunded", label, last.created_at if last else None, True, True, "warning"))
    return steps


def order_next_step(order: Order, payment: Payment | None) -> str:
    """One sentence on what happens next, for the order page."""
    match order.status:
        case OrderStatus.AWAITING_PAYMENT:
            return "Your card has not been authorized yet. Finish checkout to place the order."
        case OrderStatus.AWAITING_REVIEW:
            # The day in the site's time zone (as the order page and the emails show it), not UTC's; the hold
            # lasts through most of that day, so "by", not "before".
            deadline = timezone.localtime(payment.capture_before) if payment and payment.capture_before else None
            when = f" by {deadline:%B} {deadline.day}" if deadline else ""
            return (
                "A licensed clinician is reviewing your answers. Your card has a hold for the total but nothing is "
                f"charged yet. If the letter is approved{when} we capture the payment and confirm the order; "
                "if not, the hold is released and nothing is charged."
            )
        case OrderStatus.CONFIRMED:
            return "Your payment is complete. The merchants are preparing your items; we email you when they ship."
        case OrderStatus.FULFILLED:
            return "Everything has shipped. Keep the itemized receipt for your HSA/FSA administrator."
        case OrderStatus.CANCELLED:
            return "This order is cancelled and the hold on your card is released. Nothing was charged."
        case OrderStatus.REFUNDED:
            return "This order was refunded in full. Refunds reach your card within 5–10 business days."
        case OrderStatus.PARTIALLY_REFUNDED:
            return "Part of this order was refunded. Refunds reach your card within 5–10 business days."
    return ""


def order_has_receipt(order: Order) -> bool:
    """A receipt exists once money was actually taken."""
    return order.status in (
        OrderStatus.CONFIRMED,
        OrderStatus.FULFILLED,
        OrderStatus.REFUNDED,
        OrderStatus.PARTIALLY_REFUNDED,
    )
