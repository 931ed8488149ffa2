"""Refunds (by ops, or made at the provider and found by a sync) and merchants' fulfilment."""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from marketplace.templatetags.marketplace_tags import usd

from .. import merchant_webhooks
from ..models import (
    Order,
    OrderItem,
    OrderItemKind,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundItem,
    RefundStatus,
)
from ..providers import (
    ProviderError,
    ProviderPayment,
    provider_for_payment,
)
from .common import (
    RefundError,
    RefundStale,
    _audit,
    _idempotency_key,
    _live_payment,
    _lock_order,
    _queue_email,
    _set_order_status,
    _set_payment_status,
)


def _split(amount: int, shares: list[int]) -> list[int]:
    """``amount`` cents split in proportion to ``shares``, summing exactly to it (largest remainder, ties in order)."""
    total = sum(shares)
    if amount == total:
        return list(shares)
    parts = [amount * share // total for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(amount * shares[i] % total), i))
    for i in by_remainder[: amount - sum(parts)]:
        parts[i] += 1
    return parts


def _refund(
    *,
    order: Order,
    payment: Payment,
    lines: dict[int, int] | None,
    reason: str,
    actor: User | None,
    request: HttpRequest | None,
    change_order_status: bool = True,
) -> Refund:
    items = {item.pk: item for item in OrderItem.objects.select_for_update().filter(order=order)}
    if lines is None:
        lines = {pk: item.refundable_quantity for pk, item in items.items() if item.refundable_quantity}
    lines = {int(pk): int(qty) for pk, qty in lines.items() if int(qty) > 0}
    if not lines:
        raise RefundError("Choose at least one item to refund.")
    amount = 0
    for pk, qty in lines.items():
        item = items.get(pk)
        if item is None:
            raise RefundError("That item is not part of this order.")
        if qty > item.refundable_quantity:
            raise RefundError(f"Only {item.refundable_quantity} of “{item.name}” can still be refunded.")
        amount += qty * item.unit_price_cents
    available = payment.amount_captured_cents - payment.amount_refunded_cents
    amount = min(amount, available)
    if amount <= 0:
        raise RefundError("Nothing is left to refund on this payment.")
    # Same request from the same state → same key: a retry after a timeout refunds once.
    signature = ",".join(f"{pk}x{qty}" for pk, qty in sorted(lines.items()))
    digest = hashlib.sha256(signature.encode()).hexdigest()[:16]
    key = _idempotency_key(payment, f"refund:{payment.amount_refunded_cents}:{amount}:{digest}")
    try:
        answer = provider_for_payment(payment).refund(payment=payment, amount_cents=amount, idempotency_key=key)
    except ProviderError as exc:
        raise RefundError(str(exc)) from exc
    if not answer.succeeded:
        raise RefundError(answer.failure_message or "The payment processor refused the refund.")
    refund = Refund.objects.create(
        order=order,
        payment=payment,
        amount_cents=amount,
        reason=reason[:500],
        status=RefundStatus.SUCCEEDED,
        provider_reference=answer.reference,
        created_by=actor if isinstance(actor, User) else None,
        completed_at=timezone.now(),
    )
    # When less is left on the payment than the items' prices (a refund made at the processor took some),
    # the refund is split across its items in proportion, so the items add up to what was refunded.
    shares = _split(amount, [qty * items[pk].unit_price_cents for pk, qty in lines.items()])
    for (pk, qty), share in zip(lines.items(), shares, strict=True):
        item = items[pk]
        RefundItem.objects.create(refund=refund, order_item=item, quantity=qty, amount_cents=share)
        item.refunded_quantity += qty
        item.refunded_cents += share
        item.save(update_fields=["refunded_quantity", "refunded_cents"])
    _record_refund_amount(payment, order, amount, actor, request)
    _audit("refund.issued", refund, actor=actor, request=request, amount_cents=amount, order=str(order.pk))
    merchant_webhooks.merchant_event_refund(refund=refund)
    if change_order_status:
        _refund_order_status(order, actor, request)
    _queue_email("refund_issued", refund.pk)
    return refund


def _record_refund_amount(
    payment: Payment, order: Order, amount: int, actor: User | None, request: HttpRequest | None
) -> None:
    payment.amount_refunded_cents += amount
    status = (
        PaymentStatus.REFUNDED
        if payment.amount_refunded_cents >= payment.amount_captured_cents
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    if status != payment.status:
        _set_payment_status(payment, status)
    else:
        payment.save(update_fields=["amount_refunded_cents", "updated_at"])
    order.refunded_cents += amount
    order.save(update_fields=["refunded_cents", "updated_at"])


def _refund_order_status(order: Order, actor: User | None, request: HttpRequest | None) -> None:
    fully = order.refunded_cents >= order.total_cents
    status = OrderStatus.REFUNDED if fully else OrderStatus.PARTIALLY_REFUNDED
    if status != order.status and order.can_transition_to(status):
        _set_order_status(order, status)
        _audit("order.refunded", order, actor=actor, request=request, status=status)


def _sync_refunds(
    payment: Payment, order: Order, answer: ProviderPayment, actor: User | None, request: HttpRequest | None
) -> None:
    """A refund made at the provider (Stripe's dashboard) that we have not recorded becomes a Refund row."""
    missing = answer.amount_refunded_cents - payment.amount_refunded_cents
    if missing <= 0 or payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED):
        return
    refund = Refund.objects.create(
        order=order,
        payment=payment,
        amount_cents=missing,
        reason="Refunded at the payment processor.",
        status=RefundStatus.SUCCEEDED,
        completed_at=timezone.now(),
    )
    _record_refund_amount(payment, order, missing, actor, request)
    _audit("refund.issued", refund, actor=actor, request=request, amount_cents=missing, order=str(order.pk))
    merchant_webhooks.merchant_event_refund(refund=refund)
    if order.status not in (OrderStatus.AWAITING_REVIEW, OrderStatus.CANCELLED):
        _refund_order_status(order, actor, request)
    _queue_email("refund_issued", refund.pk)


def order_refund(
    *,
    order: Order,
    reason: str,
    actor: User | None,
    lines: dict[int, int] | None = None,
    request: HttpRequest | None = None,
    expected_refunded_cents: int | None = None,
) -> Refund:
    """Refund a whole order (``lines=None``) or chosen items (``{order_item_id: quantity}``) through the provider.

    Amounts come from the items' snapshotted prices. The order becomes
    ``refunded`` when everything is refunded, else ``partially_refunded``; the
    shopper is emailed. ``expected_refunded_cents`` is what the order had
    refunded when the caller's form was shown: if it changed since (the form
    was submitted twice), :class:`RefundStale` is raised and nothing is refunded.
    """
    reason = reason.strip()
    if not reason:
        raise RefundError("Give a reason for the refund.")
    with transaction.atomic():
        order = _lock_order(order)
        if expected_refunded_cents is not None and order.refunded_cents != expected_refunded_cents:
            raise RefundStale(
                f"Order {order.reference} was refunded while this form was open "
                f"({usd(order.refunded_cents)} refunded in total now): nothing more was refunded. "
                "Check the refunds and open the refund page again if another one is needed."
            )
        if order.status not in (
            OrderStatus.CONFIRMED,
            OrderStatus.FULFILLED,
            OrderStatus.PARTIALLY_REFUNDED,
        ):
            raise RefundError(f"Order {order.reference} is {order.get_status_display().lower()}: nothing to refund.")
        payment = _live_payment(order)
        if payment is None or payment.status not in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED):
            raise RefundError("This order has no captured payment.")
        return _refund(order=order, payment=payment, lines=lines, reason=reason, actor=actor, request=request)


def order_items_mark_fulfilled(*, items: list[OrderItem], actor: User, request: HttpRequest | None = None) -> int:
    """Mark items shipped by their merchant; an order whose items are all fulfilled becomes ``fulfilled``.

    Only items of confirmed orders can be fulfilled. Returns how many items changed.
    """
    changed = 0
    with transaction.atomic():
        order_ids = sorted({item.order_id for item in items})
        orders = {o.pk: o for o in Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk")}
        for item in OrderItem.objects.select_for_update().filter(pk__in=[i.pk for i in items]):
            order = orders[item.order_id]
            if item.fulfilled_at is not None or order.status not in (
                OrderStatus.CONFIRMED,
                OrderStatus.PARTIALLY_REFUNDED,
            ):
                continue
            item.fulfilled_at = timezone.now()
            item.fulfilled_by = actor
            item.save(update_fields=["fulfilled_at", "fulfilled_by"])
            _audit("order_item.fulfilled", item, actor=actor, request=request, order=str(order.pk))
            changed += 1
        for order in orders.values():
            if order.status != OrderStatus.CONFIRMED:
                continue
            pending = order.items.filter(fulfilled_at__isnull=True, kind=OrderItemKind.PRODUCT).exists()
            if not pending:
                _set_order_status(order, OrderStatus.FULFILLED)
                _audit("order.fulfilled", order, actor=actor, request=request, status=order.status)
    return changed
