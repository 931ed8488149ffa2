"""The hold clock: lapsed holds expire (never captured), holds lapsing within a day are flagged for ops."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User

from ..models import (
    Order,
    OrderCancelReason,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from ..providers import (
    ProviderError,
    provider_for_payment,
)
from .common import (
    _audit,
    _idempotency_key,
    _live_payment,
    _lock_order,
    _queue_email,
    _set_order_status,
    _set_payment_status,
)

# The hold clock flags an order this long before its hold lapses.
HOLD_WARNING = timedelta(hours=24)


def _expire(payment: Payment, order: Order, *, actor: User | None = None, request: HttpRequest | None = None) -> None:
    _set_payment_status(payment, PaymentStatus.EXPIRED)
    _audit("payment.expired", payment, actor=actor, request=request)
    if order.status == OrderStatus.AWAITING_REVIEW:
        order.cancel_reason = OrderCancelReason.HOLD_EXPIRED
        _set_order_status(order, OrderStatus.CANCELLED)
        _audit("order.cancelled", order, actor=actor, request=request, reason=order.cancel_reason)
        _queue_email("hold_expired", order.pk)


def payment_expire_hold(*, payment_id: UUID | str) -> bool:
    """Mark a lapsed hold ``expired`` and its order ``cancelled`` (shopper emailed). Never captures.

    Re-reads the row; a payment that is no longer authorized or whose hold has
    not lapsed is left alone. The provider is asked to release the hold (Stripe
    cancels uncaptured PaymentIntents after 7 days by itself; asking again is
    harmless). Returns whether anything changed.
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None or payment.status != PaymentStatus.AUTHORIZED or not payment.hold_has_lapsed:
            return False
        order = _lock_order(payment.order_id)
        # The hold is gone either way (Stripe lapses it by itself); our records must still say so.
        with contextlib.suppress(ProviderError):
            provider_for_payment(payment).cancel(payment=payment, idempotency_key=_idempotency_key(payment, "cancel"))
        _expire(payment, order)
        return True


def order_flag_hold_expiring(*, order_id: UUID | str) -> bool:
    """Flag an order under review whose hold lapses within 24 hours, once; ops are emailed. Returns whether it was flagged now."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != OrderStatus.AWAITING_REVIEW or order.hold_expiring_flagged_at is not None:
            return False
        payment = _live_payment(order, lock=False)
        if payment is None or payment.capture_before is None or payment.capture_before > timezone.now() + HOLD_WARNING:
            return False
        order.hold_expiring_flagged_at = timezone.now()
        order.save(update_fields=["hold_expiring_flagged_at", "updated_at"])
        _audit("order.hold_expiring", order, actor=None, request=None)
        _queue_email("ops_hold_expiring", order.pk)
        return True
