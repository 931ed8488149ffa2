"""Paying an order: commit the attempt, call the provider outside any transaction, apply its answer.

Also the answer's effects (a letter order held for review, any other order
captured and confirmed), :func:`payment_sync` for the webhook and the Stripe
return, and :func:`payment_reconcile` for attempts whose answer was lost.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from marketplace.models import Cart
from marketplace.services import cart_remove_products

from ..models import (
    LIVE_PAYMENT_STATUSES,
    CheckoutSession,
    CheckoutSource,
    CheckoutStatus,
    MerchantCheckout,
    Order,
    OrderCancelReason,
    OrderStatus,
    Payment,
    PaymentProviderName,
    PaymentStatus,
)
from ..providers import (
    CardDetails,
    PaymentDeclined,
    ProviderError,
    ProviderPayment,
    ProviderState,
    provider_for_payment,
)
from .checkout import checkout_after_payment
from .common import (
    CheckoutError,
    HoldExpired,
    PayResult,
    _audit,
    _idempotency_key,
    _live_payment,
    _lock_order,
    _queue_email,
    _set_order_status,
    _set_payment_status,
)
from .holds import _expire
from .refunds import _sync_refunds

# An authorization attempt still in flight this long after it started lost its answer (a request
# gives up on the provider within a few minutes): the reconciler asks the provider instead.
RECONCILE_AFTER = timedelta(minutes=10)


def order_provider_name(order: Order) -> str:
    """The provider that pays ``order``: none for $0, the test provider for a merchant's test-mode session."""
    if order.total_cents == 0:
        return PaymentProviderName.NONE
    if (
        order.checkout_session_id is not None
        and MerchantCheckout.objects.filter(session_id=order.checkout_session_id, livemode=False).exists()
    ):
        # A session made with a flx_test_ key never moves real money, whatever the site's provider.
        return PaymentProviderName.TEST
    return settings.PAYMENT_PROVIDER


def _new_payment(order: Order, *, provider: str) -> Payment:
    return Payment.objects.create(
        order=order,
        provider=provider,
        amount_cents=order.total_cents,
        currency=order.currency,
        attempt_started_at=timezone.now(),
    )


def _open_payment(order: Order, *, provider: str) -> Payment | None:
    """The order's attempt that holds nothing yet and still fits the order (``provider`` and amount), locked.

    Paying again reuses it, and with it its idempotency key (derived from its
    id): the provider then answers the first call again (Stripe: the same
    PaymentIntent) instead of holding or charging a second time.
    """
    return (
        Payment.objects.select_for_update()
        .filter(
            order=order,
            status=PaymentStatus.REQUIRES_AUTHORIZATION,
            provider=provider,
            amount_cents=order.total_cents,
            currency=order.currency,
        )
        .order_by("-created_at")
        .first()
    )


def _start_attempt(order: Order, *, provider: str = "", payment: Payment | None = None) -> Payment:
    """The payment row to send to the provider (reused or new), marked as in flight. Call it with the order locked.

    A caller that already has the ``provider`` (a query for a merchant's session) or the open
    ``payment`` passes them, so neither is looked up twice.
    """
    provider = provider or order_provider_name(order)
    payment = payment or _open_payment(order, provider=provider)
    if payment is None:
        return _new_payment(order, provider=provider)
    payment.attempt_started_at = timezone.now()
    payment.save(update_fields=["attempt_started_at", "updated_at"])
    return payment


def _record_answer(payment: Payment, answer: ProviderPayment) -> None:
    """Keep the provider's reference and card, and end the attempt, in one write; the status is the caller's to change."""
    fields = ["attempt_started_at", "updated_at"]
    if not payment.provider_reference and answer.reference:
        payment.provider_reference = answer.reference
        fields.append("provider_reference")
    if answer.card_last4 and not payment.card_last4:
        _copy_card(payment, answer)
        fields += ["card_brand", "card_last4"]
    payment.attempt_started_at = None
    payment.save(update_fields=fields)


def _copy_card(payment: Payment, answer: ProviderPayment) -> None:
    payment.card_brand = answer.card_brand[:20]
    payment.card_last4 = answer.card_last4[-4:]


def _lock_payment_and_order(payment: Payment | UUID | str) -> tuple[Payment, Order]:
    """Lock the order, then the payment: the order first, like every other writer, so two never deadlock."""
    pk = payment.pk if isinstance(payment, Payment) else payment
    order = _lock_order(Payment.objects.values_list("order_id", flat=True).get(pk=pk))
    return Payment.objects.select_for_update().get(pk=pk), order


def _check_payable(order: Order, actor: User) -> None:
    if order.shopper_id != actor.pk:
        raise CheckoutError("This order belongs to someone else.")
    session = order.checkout_session
    if session is not None and session.status != CheckoutStatus.OPEN:
        raise CheckoutError("This checkout has ended. Start again from your cart.")
    if session is not None and not session.is_open:
        raise CheckoutError("This checkout expired. Start again from your cart.")


def payment_prepare(*, order: Order, actor: User, request: HttpRequest | None = None) -> Payment:
    """The open payment the browser confirms (Stripe's Payment Element), created once per order.

    Reuses the order's payment that still requires authorization, so reloading
    the page never creates a second PaymentIntent. Like :func:`order_pay`, the
    row is committed before the provider is called and the answer is recorded
    in a second transaction, so a PaymentIntent is never left without its row.
    """
    with transaction.atomic():
        order = _lock_order(order)
        _check_payable(order, actor)
        if order.status != OrderStatus.AWAITING_PAYMENT:
            raise CheckoutError("This order is already paid.")
        provider = order_provider_name(order)
        payment = _open_payment(order, provider=provider)
        if payment is not None and payment.provider_reference:
            return payment
        payment = _start_attempt(order, provider=provider, payment=payment)
    try:
        answer = provider_for_payment(payment).authorize(
            payment=payment, idempotency_key=_idempotency_key(payment, "authorize")
        )
    except (ProviderError, PaymentDeclined) as exc:
        raise CheckoutError("We could not start the payment. Please try again in a moment.") from exc
    with transaction.atomic():
        payment, order = _lock_payment_and_order(payment)
        _record_answer(payment, answer)
        if answer.state != ProviderState.REQUIRES_AUTHORIZATION:
            # An earlier attempt on this row was confirmed but never recorded: record it now.
            payment = _apply_provider_state(payment=payment, order=order, answer=answer, actor=actor, request=request)
            if payment.status in LIVE_PAYMENT_STATUSES:
                raise CheckoutError("This order is already paid.")
    return payment


def payment_client_secret(*, payment: Payment) -> str:
    """The secret Stripe.js needs to confirm the payment in the browser (never stored).

    Raises :class:`CheckoutError` when the provider cannot be reached, like :func:`payment_prepare`.
    """
    try:
        return provider_for_payment(payment).retrieve(payment=payment).client_secret
    except ProviderError as exc:
        raise CheckoutError("We could not start the payment. Please try again in a moment.") from exc


def order_pay(
    *,
    order: Order,
    actor: User,
    card: CardDetails | None = None,
    payment_method: str = "",
    request: HttpRequest | None = None,
) -> PayResult:
    """Authorize the order's total (computed from its items, never posted) on the server.

    ``card`` is for the test provider's form, ``payment_method`` a Stripe
    PaymentMethod id. Authorized: a letter order waits in ``awaiting_review``;
    any other order is captured at once and ``confirmed``. Declined: the
    attempt is kept as a ``failed`` payment, the order stays
    ``awaiting_payment`` and the cart is untouched, so the shopper can try
    another card. Paying an order that is already paid answers its payment.

    Three steps, so no answer from the provider is ever lost with a rollback:
    the payment row is committed (``requires_authorization``, marked in
    flight), the provider is called outside any transaction with the row's
    idempotency key, and its answer is applied in a second transaction. A
    retry reuses the same row and key (the provider answers the same
    payment), and :func:`payment_reconcile` settles a row whose answer was lost.
    Call it outside any transaction: inside one, the first step would not commit.
    """
    for _ in range(2):
        with transaction.atomic():
            locked = _lock_order(order)
            if locked.shopper_id != actor.pk:
                raise CheckoutError("This order belongs to someone else.")
            existing = _live_payment(locked)
            if existing is not None:
                return PayResult(outcome="authorized", payment=existing)
            _check_payable(locked, actor)
            if locked.status != OrderStatus.AWAITING_PAYMENT:
                raise CheckoutError("This order cannot be paid now.")
            payment = _start_attempt(locked)
        try:
            answer = provider_for_payment(payment).authorize(
                payment=payment,
                idempotency_key=_idempotency_key(payment, "authorize"),
                card=card,
                payment_method=payment_method,
            )
        except PaymentDeclined as declined:
            return _pay_declined(payment, declined, actor, request)
        except ProviderError as exc:
            # The row stays in flight: a retry asks the provider with the same key, and the
            # reconciler settles it if nobody retries.
            raise CheckoutError(
                "We could not reach the payment processor. Nothing was charged; please try again."
            ) from exc
        result = _pay_apply(payment, answer, actor, request)
        if result is not None:
            return result
    raise CheckoutError("We could not complete the payment. Nothing was charged; please try again.")


def _pay_declined(payment: Payment, declined: PaymentDeclined, actor: User, request: HttpRequest | None) -> PayResult:
    with transaction.atomic():
        payment, _order = _lock_payment_and_order(payment)
        if payment.status == PaymentStatus.REQUIRES_AUTHORIZATION:
            payment.provider_reference = payment.provider_reference or declined.reference
            payment.failure_code = declined.code[:64]
            payment.failure_message = declined.message[:255]
            payment.attempt_started_at = None
            _set_payment_status(payment, PaymentStatus.FAILED)
            _audit("payment.declined", payment, actor=actor, request=request, code=payment.failure_code)
        elif payment.status in LIVE_PAYMENT_STATUSES:
            # A concurrent submit of the same attempt was authorized first: the order is paid.
            return PayResult(outcome="authorized", payment=payment)
        return PayResult(outcome="declined", payment=payment, message=declined.message)


def _pay_apply(payment: Payment, answer: ProviderPayment, actor: User, request: HttpRequest | None) -> PayResult | None:
    """Record the provider's answer to ``order_pay``; ``None`` when the reused attempt had ended (try a new one)."""
    with transaction.atomic():
        payment, order = _lock_payment_and_order(payment)
        _record_answer(payment, answer)
        if (
            payment.status == PaymentStatus.REQUIRES_AUTHORIZATION
            and answer.state == ProviderState.REQUIRES_AUTHORIZATION
        ):
            return PayResult(outcome="requires_action", payment=payment, client_secret=answer.client_secret)
        payment = _apply_provider_state(payment=payment, order=order, answer=answer, actor=actor, request=request)
        if payment.status == PaymentStatus.FAILED and payment.failure_message:
            return PayResult(outcome="declined", payment=payment, message=payment.failure_message)
        if payment.status in (PaymentStatus.CANCELED, PaymentStatus.EXPIRED, PaymentStatus.FAILED):
            live = _live_payment(order, lock=False)
            return PayResult(outcome="authorized", payment=live) if live is not None else None
        return PayResult(outcome="authorized", payment=payment)


def payment_sync(
    *, payment: Payment, actor: User | None = None, request: HttpRequest | None = None, reference: str = ""
) -> Payment:
    """Re-fetch the payment from its provider and bring our rows to that state (idempotent).

    Used when Stripe.js returns the shopper to the pay page and by the webhook:
    whatever order the news arrives in, the provider's current state decides.
    ``reference`` is the provider's id for a row that never saved one (the
    answer to our call was lost; the webhook found the row by the
    PaymentIntent's metadata); a row that has a reference keeps it. A provider
    that cannot be reached raises :class:`CheckoutError` (nothing is recorded).
    """
    try:
        with transaction.atomic():
            payment, order = _lock_payment_and_order(payment)
            if reference and not payment.provider_reference:
                payment.provider_reference = reference
                payment.save(update_fields=["provider_reference", "updated_at"])
            answer = provider_for_payment(payment).retrieve(payment=payment)
            if payment.attempt_started_at is not None:
                _record_answer(payment, answer)
            return _apply_provider_state(payment=payment, order=order, answer=answer, actor=actor, request=request)
    except ProviderError as exc:
        raise CheckoutError(
            "We could not reach the payment processor to check your payment. Please try again in a moment."
        ) from exc


def payment_reconcile(*, payment_id: UUID | str) -> bool:
    """Settle a payment whose attempt has been in flight too long (its answer was lost); returns whether it was.

    The provider is asked for the payment by its reference or, when the
    reference was never saved, by the attempt's idempotency key
    (:meth:`~payments.providers.base.PaymentProvider.recover`), outside any
    transaction; what it says is applied under lock like any answer: a hold is
    recorded (a letter order goes to review, any other order is captured and
    confirmed), a capture is recorded, an attempt that holds nothing is simply
    no longer in flight (the shopper can still pay with it).
    """
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or payment.status != PaymentStatus.REQUIRES_AUTHORIZATION or payment.attempt_started_at is None:
        return False
    provider = provider_for_payment(payment)
    try:
        if payment.provider_reference:
            answer = provider.retrieve(payment=payment)
        else:
            answer = provider.recover(payment=payment, idempotency_key=_idempotency_key(payment, "authorize"))
    except ProviderError:
        # Unreachable now: the next run asks again.
        return False
    with transaction.atomic():
        payment, order = _lock_payment_and_order(payment)
        if payment.status != PaymentStatus.REQUIRES_AUTHORIZATION or payment.attempt_started_at is None:
            return False
        _record_answer(payment, answer)
        _audit("payment.reconciled", payment, actor=None, request=None, state=str(answer.state))
        _apply_provider_state(payment=payment, order=order, answer=answer, actor=None, request=None)
        return True


def _capture_now(payment: Payment, order: Order, actor: User | None, request: HttpRequest | None) -> ProviderPayment:
    if payment.status == PaymentStatus.EXPIRED or payment.hold_has_lapsed:
        raise HoldExpired("The card hold has expired; the payment can no longer be captured.")
    return provider_for_payment(payment).capture(payment=payment, idempotency_key=_idempotency_key(payment, "capture"))


def _record_capture(payment: Payment, answer: ProviderPayment, actor: User | None, request: HttpRequest | None) -> None:
    payment.amount_captured_cents = answer.amount_captured_cents or payment.amount_cents
    _set_payment_status(payment, PaymentStatus.CAPTURED)
    _audit("payment.captured", payment, actor=actor, request=request, amount_cents=payment.amount_captured_cents)


def _confirm_order(order: Order, actor: User | None, request: HttpRequest | None) -> None:
    _set_order_status(order, OrderStatus.CONFIRMED)
    _audit("order.confirmed", order, actor=actor, request=request, status=order.status)
    _queue_email("order_confirmed", order.pk)


def _complete_session(order: Order) -> None:
    if order.checkout_session_id is None:
        return
    session = CheckoutSession.objects.select_for_update().get(pk=order.checkout_session_id)
    if session.status == CheckoutStatus.OPEN:
        session.assert_can_transition_to(CheckoutStatus.COMPLETE)
        session.status = CheckoutStatus.COMPLETE
        session.completed_at = timezone.now()
        session.save(update_fields=["status", "completed_at", "updated_at"])
        # The Flex Shop cart keeps only what was not bought.
        if session.source == CheckoutSource.FLEX_SHOP and session.customer_id:
            cart = Cart.objects.filter(user_id=session.customer_id).first()
            if cart is not None:
                cart_remove_products(
                    cart=cart,
                    product_ids=[pid for pid in session.line_items.values_list("product_id", flat=True) if pid],
                )


def _on_authorized(payment: Payment, order: Order, actor: User | None, request: HttpRequest | None) -> None:
    """The money is held (or already taken at the provider): place the order awaiting payment.

    A letter order waits for review; any other order is captured now (unless the
    provider captured it already) and confirmed. Either way the checkout session
    completes and :func:`checkout_after_payment` sends a finished intake for review.
    """
    if order.status != OrderStatus.AWAITING_PAYMENT:
        return
    _complete_session(order)
    if order.requires_letter:
        _set_order_status(order, OrderStatus.AWAITING_REVIEW)
        _audit("order.placed", order, actor=actor, request=request, status=order.status)
        _queue_email("order_under_review", order.pk)
        checkout_after_payment(order=order)
        return
    _audit("order.placed", order, actor=actor, request=request, status=OrderStatus.AWAITING_PAYMENT)
    if payment.status == PaymentStatus.AUTHORIZED:
        provider = provider_for_payment(payment)
        try:
            answer = _capture_now(payment, order, actor, request)
        except ProviderError as exc:
            # Release the hold rather than leave money held for an order we could not confirm. The
            # surrounding transaction rolls the order back; the payment row stays in flight, so a
            # retry (or the reconciler) finds the PaymentIntent canceled and records it.
            with contextlib.suppress(ProviderError):
                provider.cancel(payment=payment, idempotency_key=_idempotency_key(payment, "cancel"))
            raise CheckoutError("We could not complete the payment. Nothing was charged; please try again.") from exc
        _record_capture(payment, answer, actor, request)
    _confirm_order(order, actor, request)
    checkout_after_payment(order=order)


def _apply_provider_state(
    *, payment: Payment, order: Order, answer: ProviderPayment, actor: User | None, request: HttpRequest | None
) -> Payment:
    """Bring a locked payment and its locked order to what the provider says. Idempotent."""
    if answer.card_last4 and not payment.card_last4:
        _copy_card(payment, answer)
        payment.save(update_fields=["card_brand", "card_last4", "updated_at"])
    state = answer.state

    if state in (ProviderState.REQUIRES_AUTHORIZATION, ProviderState.FAILED):
        new_decline = (answer.decline_code[:64], answer.decline_message[:255])
        if (
            payment.status == PaymentStatus.REQUIRES_AUTHORIZATION
            and answer.decline_code
            and (payment.failure_code, payment.failure_message) != new_decline
        ):
            payment.failure_code = answer.decline_code[:64]
            payment.failure_message = answer.decline_message[:255]
            payment.save(update_fields=["failure_code", "failure_message", "updated_at"])
            _audit("payment.declined", payment, actor=actor, request=request, code=payment.failure_code)
        if state == ProviderState.FAILED and payment.status == PaymentStatus.REQUIRES_AUTHORIZATION:
            _set_payment_status(payment, PaymentStatus.FAILED)
        return payment

    if state == ProviderState.PROCESSING:
        return payment

    if (
        state in (ProviderState.AUTHORIZED, ProviderState.CAPTURED)
        and payment.status == PaymentStatus.REQUIRES_AUTHORIZATION
    ):
        if _live_payment(order) is not None:
            # Another attempt already holds money for this order: release this one.
            provider_for_payment(payment).cancel(payment=payment, idempotency_key=_idempotency_key(payment, "cancel"))
            _set_payment_status(payment, PaymentStatus.CANCELED)
            return payment
        now = timezone.now()
        # The hold runs from the authorization, which may be well before we hear of it (a late webhook).
        payment.authorized_at = min(answer.authorized_at, now) if answer.authorized_at else now
        payment.capture_before = payment.authorized_at + timedelta(days=settings.PAYMENT_HOLD_DAYS)
        payment.failure_code = payment.failure_message = ""
        _set_payment_status(payment, PaymentStatus.AUTHORIZED)
        _audit("payment.authorized", payment, actor=actor, request=request, amount_cents=payment.amount_cents)
        if state == ProviderState.AUTHORIZED:
            _on_authorized(payment, order, actor, request)
            return payment

    if state == ProviderState.CAPTURED:
        if payment.status == PaymentStatus.AUTHORIZED:
            # Captured at the provider (our own capture whose answer was lost, or
            # the dashboard). Reality wins for the payment; the order moves on
            # only as far as its review allows.
            _record_capture(payment, answer, actor, request)
            _on_authorized(payment, order, actor, request)
        _sync_refunds(payment, order, answer, actor, request)
        return payment

    if state == ProviderState.CANCELED:
        if payment.status == PaymentStatus.REQUIRES_AUTHORIZATION:
            _set_payment_status(payment, PaymentStatus.CANCELED)
            _audit("payment.canceled", payment, actor=actor, request=request)
        elif payment.status == PaymentStatus.AUTHORIZED:
            if payment.hold_has_lapsed:
                _expire(payment, order, actor=actor, request=request)
            else:
                _set_payment_status(payment, PaymentStatus.CANCELED)
                _audit("payment.canceled", payment, actor=actor, request=request)
                if order.status == OrderStatus.AWAITING_REVIEW:
                    order.cancel_reason = OrderCancelReason.PAYMENT_CANCELED
                    _set_order_status(order, OrderStatus.CANCELLED)
                    _audit("order.cancelled", order, actor=actor, request=request, reason=order.cancel_reason)
                    _queue_email("order_cancelled", order.pk)
        return payment
    return payment
