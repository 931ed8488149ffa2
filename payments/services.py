"""Writes for checkout, orders, payments and refunds. Other apps change payments data only through here.

Every status change happens here, inside ``transaction.atomic`` after
``select_for_update()`` on the row, checked against the model's transition
table, with an audit entry; emails are queued with ``transaction.on_commit``.

Seams for the consultation and letters issues:

* :func:`checkout_next_step_url` — where the shopper goes after the contact details.
* :func:`checkout_after_payment` — runs when a payment is authorized; where the shopper goes next.
* :func:`order_capture_after_approval` / :func:`order_cancel_after_denial` — the clinician's decision.
* :func:`order_create_for_consultation_fee` — a letter without a purchase, paid through the same services.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from accounts.models import User
from accounts.services import audit_record
from marketplace.models import Cart, Category, Eligibility, Merchant, Product
from marketplace.selectors import cart_summary
from marketplace.services import cart_remove_products

from . import merchant_webhooks
from .models import (
    LIVE_PAYMENT_STATUSES,
    CheckoutLineItem,
    CheckoutSession,
    CheckoutSource,
    CheckoutStatus,
    MerchantCheckout,
    Order,
    OrderCancelReason,
    OrderItem,
    OrderItemKind,
    OrderStatus,
    Payment,
    PaymentProviderName,
    PaymentStatus,
    Refund,
    RefundItem,
    RefundStatus,
)
from .providers import (
    CardDetails,
    PaymentDeclined,
    ProviderError,
    ProviderPayment,
    ProviderState,
    get_provider,
    provider_for_payment,
)

# How long a checkout session stays open (Stripe's hosted checkout uses 24 hours too).
CHECKOUT_SESSION_TTL = timedelta(hours=24)
# The hold clock flags an order this long before its hold lapses.
HOLD_WARNING = timedelta(hours=24)


class CheckoutError(Exception):
    """A checkout step that cannot be taken; the message is shown to the shopper."""


class OrderStateError(Exception):
    """The order is not in a state where this action makes sense; the message says why."""


class HoldExpired(OrderStateError):
    """The card hold lapsed: the payment can no longer be captured."""


class RefundError(Exception):
    """A refund that cannot be made; the message is shown to ops."""


@dataclass(frozen=True)
class ContactDetails:
    name: str
    email: str
    phone: str
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True)
class PayResult:
    """What became of one attempt to pay: ``authorized``, ``declined`` or ``requires_action`` (Stripe's browser step)."""

    outcome: str
    payment: Payment
    message: str = ""
    client_secret: str = ""


# --------------------------------------------------------------------------- helpers


def _queue_email(kind: str, object_id: object) -> None:
    transaction.on_commit(lambda: async_task("payments.tasks.send_email", kind, str(object_id)))


def _set_order_status(order: Order, status: str) -> None:
    order.assert_can_transition_to(status)
    previous = order.status
    order.status = status
    now = timezone.now()
    stamp = {
        OrderStatus.CONFIRMED: "confirmed_at",
        OrderStatus.FULFILLED: "fulfilled_at",
        OrderStatus.CANCELLED: "cancelled_at",
        OrderStatus.REFUNDED: "refunded_at",
    }.get(OrderStatus(status))
    if stamp and getattr(order, stamp) is None:
        setattr(order, stamp, now)
    if status == OrderStatus.AWAITING_REVIEW or (status == OrderStatus.CONFIRMED and order.placed_at is None):
        order.placed_at = order.placed_at or now
    order.save()
    # A merchant whose API created the checkout hears about it (rows now, HTTP after commit).
    merchant_webhooks.merchant_events_for_order(order=order, previous_status=previous)


def _set_payment_status(payment: Payment, status: str) -> None:
    payment.assert_can_transition_to(status)
    payment.status = status
    now = timezone.now()
    stamp = {
        PaymentStatus.AUTHORIZED: "authorized_at",
        PaymentStatus.CAPTURED: "captured_at",
        PaymentStatus.CANCELED: "canceled_at",
        PaymentStatus.EXPIRED: "expired_at",
        PaymentStatus.FAILED: "failed_at",
    }.get(PaymentStatus(status))
    if stamp and getattr(payment, stamp) is None:
        setattr(payment, stamp, now)
    payment.save()


def _audit(action: str, obj: Any, *, actor: User | None, request: HttpRequest | None, **extra: Any) -> None:
    audit_record(action=action, actor=actor, obj=obj, request=request, extra=extra)


def _idempotency_key(payment: Payment, action: str) -> str:
    return f"flexlmn:{payment.order_id}:{payment.id}:{action}"


def _lock_order(order: Order | UUID | str) -> Order:
    pk = order.pk if isinstance(order, Order) else order
    return Order.objects.select_for_update().get(pk=pk)


def _live_payment(order: Order, *, lock: bool = True) -> Payment | None:
    qs = Payment.objects.filter(order=order, status__in=LIVE_PAYMENT_STATUSES)
    if lock:
        qs = qs.select_for_update()
    return qs.first()


# --------------------------------------------------------------------------- checkout


def _default_contact(user: User) -> dict[str, str]:
    """Prefill the contact form from the shopper's account and last order."""
    last = Order.objects.filter(shopper=user).exclude(shipping_line1="").order_by("-created_at").first()
    contact = {"contact_name": user.get_full_name() if user.first_name else "", "contact_email": user.email}
    if last is not None:
        contact.update(
            contact_name=last.buyer_name or contact["contact_name"],
            contact_phone=last.buyer_phone,
            shipping_line1=last.shipping_line1,
            shipping_line2=last.shipping_line2,
            shipping_city=last.shipping_city,
            shipping_state=last.shipping_state,
            shipping_postal_code=last.shipping_postal_code,
        )
    return contact


def checkout_line_from_product(product: Product, quantity: int) -> CheckoutLineItem:
    """An unsaved line item that snapshots a catalog product at its current price."""
    return CheckoutLineItem(
        product=product,
        name=product.name,
        merchant=product.merchant,
        merchant_name=product.merchant.name,
        merchant_reference=product.merchant_reference,
        category=product.category,
        category_name=product.category.name,
        unit_price_cents=product.price_cents,
        quantity=quantity,
        gtin=product.gtin,
        eligibility=product.eligibility,
    )


@transaction.atomic
def checkout_session_create(
    *,
    source: str,
    lines: list[CheckoutLineItem],
    customer: User | None = None,
    customer_email: str = "",
    merchant: Merchant | None = None,
    success_url: str = "",
    cancel_url: str = "",
    metadata: dict[str, Any] | None = None,
    ttl: timedelta = CHECKOUT_SESSION_TTL,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> CheckoutSession:
    """Create a checkout session from unsaved line items (the one checkout for every source).

    ``lines`` come from :func:`checkout_line_from_product` (catalog prices) or,
    for a merchant's inline items, are built by the caller with the merchant's
    own name, price, GTIN and eligibility. Items HSA/FSA cannot pay for are refused.
    """
    if not lines:
        raise CheckoutError("A checkout needs at least one item.")
    if any(line.eligibility == Eligibility.NOT_ELIGIBLE for line in lines):
        raise CheckoutError(
            "Some items in your cart cannot be paid for with HSA/FSA funds. Remove them to pay with HSA/FSA."
        )
    session = CheckoutSession.objects.create(
        source=source,
        customer=customer,
        customer_email=customer_email or (customer.email if customer else ""),
        merchant=merchant,
        success_url=success_url,
        cancel_url=cancel_url,
        expires_at=timezone.now() + ttl,
        metadata=metadata or {},
        **(_default_contact(customer) if customer else {}),
    )
    for position, line in enumerate(lines):
        line.session = session
        line.position = position
    CheckoutLineItem.objects.bulk_create(lines)
    _audit("checkout_session.created", session, actor=actor or customer, request=request, source=session.source)
    return session


def checkout_session_create_from_cart(*, cart: Cart, user: User, request: HttpRequest | None = None) -> CheckoutSession:
    """Snapshot the cart into a Flex Shop checkout session, with prices from the catalog.

    Refuses an empty cart and a cart with items HSA/FSA cannot pay for (the
    shopper removes those first). A posted price never reaches this function:
    every amount is read from the product rows.
    """
    summary = cart_summary(cart)
    if summary.is_empty:
        raise CheckoutError("Your cart is empty.")
    if summary.not_eligible_lines:
        raise CheckoutError(
            "Some items in your cart cannot be paid for with HSA/FSA funds. Remove them to pay with HSA/FSA."
        )
    return checkout_session_create(
        source=CheckoutSource.FLEX_SHOP,
        customer=user,
        lines=[checkout_line_from_product(line.product, line.quantity) for line in summary.lines],
        metadata={"cart_id": str(cart.pk)},
        request=request,
    )


@transaction.atomic
def checkout_session_claim(
    *, session: CheckoutSession, user: User, request: HttpRequest | None = None
) -> CheckoutSession:
    """Bind a session that has no customer yet (one a merchant's site created) to the signed-in shopper."""
    session = CheckoutSession.objects.select_for_update().get(pk=session.pk)
    if session.customer_id is None:
        session.customer = user
        for key, value in _default_contact(user).items():
            if not getattr(session, key):
                setattr(session, key, value)
        if session.customer_email and not session.contact_email:
            session.contact_email = session.customer_email
        session.save()
        _audit("checkout_session.claimed", session, actor=user, request=request)
    return session


def _order_items_from_session(order: Order, session: CheckoutSession) -> list[OrderItem]:
    return [
        OrderItem(
            order=order,
            position=line.position,
            kind=OrderItemKind.PRODUCT,
            product_id=line.product_id,
            name=line.name,
            merchant_id=line.merchant_id,
            merchant_name=line.merchant_name,
            merchant_reference=line.merchant_reference,
            category_id=line.category_id,
            category_name=line.category_name,
            unit_price_cents=line.unit_price_cents,
            quantity=line.quantity,
            gtin=line.gtin,
            eligibility=line.eligibility,
        )
        for line in session.line_items.all()
    ]


def _copy_contact(order: Order, session: CheckoutSession) -> None:
    order.buyer_name = session.contact_name
    order.buyer_email = session.contact_email
    order.buyer_phone = session.contact_phone
    order.shipping_line1 = session.shipping_line1
    order.shipping_line2 = session.shipping_line2
    order.shipping_city = session.shipping_city
    order.shipping_state = session.shipping_state
    order.shipping_postal_code = session.shipping_postal_code
    order.shipping_country = session.shipping_country


def _items_total(items: list[OrderItem]) -> int:
    return sum(item.line_total_cents for item in items)


@transaction.atomic
def checkout_session_set_details(
    *, session: CheckoutSession, details: ContactDetails, actor: User, request: HttpRequest | None = None
) -> Order:
    """Save the shopper's contact and shipping details and make (or update) the session's order.

    The order is created here, ``awaiting_payment``, with items snapshotted
    from the session and its total computed from them, so the intake (the
    consultation issue) can hang off the order before anything is paid.
    """
    session = CheckoutSession.objects.select_for_update().get(pk=session.pk)
    if not session.is_open:
        raise CheckoutError("This checkout has ended. Start again from your cart.")
    if session.customer_id != actor.pk:
        raise CheckoutError("This checkout belongs to someone else.")
    session.contact_name = details.name
    session.contact_email = details.email
    session.contact_phone = details.phone
    session.shipping_line1 = details.line1
    session.shipping_line2 = details.line2
    session.shipping_city = details.city
    session.shipping_state = details.state
    session.shipping_postal_code = details.postal_code
    session.details_completed_at = timezone.now()
    session.save()

    order = Order.objects.select_for_update().filter(checkout_session=session).first()
    if order is None:
        order = Order(shopper=actor, checkout_session=session, currency=session.currency)
        _copy_contact(order, session)
        order.save()
        items = _order_items_from_session(order, session)
        OrderItem.objects.bulk_create(items)
        order.total_cents = _items_total(items)
        order.requires_letter = _needs_new_letter(actor, items)
        order.save(update_fields=["total_cents", "requires_letter", "updated_at"])
        _audit("order.created", order, actor=actor, request=request, total_cents=order.total_cents)
    elif order.status == OrderStatus.AWAITING_PAYMENT:
        _copy_contact(order, session)
        order.save()
    return order


def _needs_new_letter(shopper: User, items: list[OrderItem]) -> bool:
    """Whether a clinician must review this order: it has letter-needing items in a
    category that no valid letter of the shopper covers (a covered order is
    paid and confirmed at once; its receipt points at the letter it reused)."""
    from letters.selectors import covered_category_ids

    letter_categories = {item.category_id for item in items if item.needs_letter}
    if not letter_categories:
        return False
    if None in letter_categories:
        return True
    return not letter_categories <= set(covered_category_ids(shopper))


def checkout_next_step_url(*, session: CheckoutSession) -> str:
    """Where the shopper goes once the contact details are saved.

    Today that is the payment step of the pay page. The consultation issue
    extends this one function: an order with letter-needing items whose
    consultation is not yet submitted goes to the intake first, and the intake
    sends the shopper back here when done. The pay page redirects to whatever
    this returns when it is not the pay page itself, so this is also the guard
    that keeps the shopper from skipping a step.
    """
    from consultations.checkout import checkout_intake_url

    return checkout_intake_url(session=session) or reverse("payments:pay", args=[session.pk])


def checkout_after_payment(*, order: Order) -> str:
    """Runs inside the transaction that authorized the order's payment; returns where the shopper goes next.

    Today: the order page. The consultation issue extends it to move the
    order's consultation to ``submitted`` (its review deadline is the payment's
    ``capture_before``).
    """
    from consultations.checkout import consultation_submit_for_order

    if order.checkout_session_id is None and order.items.filter(kind=OrderItemKind.CONSULTATION_FEE).exists():
        # A letter without a purchase: its fee order has no checkout session.
        from letters.services import letter_request_after_payment

        letter_request_after_payment(order=order)
        return reverse("letters:vault")
    consultation_submit_for_order(order=order)
    return reverse("payments:order_detail", args=[order.pk])


@transaction.atomic
def order_create_for_consultation_fee(
    *, shopper: User, category: Category, fee_cents: int, request: HttpRequest | None = None
) -> Order:
    """An order with a single consultation-fee line (a letter without a purchase, the letters issue).

    It is paid with :func:`order_pay` and decided with
    :func:`order_capture_after_approval` / :func:`order_cancel_after_denial`
    like any letter order; a $0 fee needs no card (``none`` provider).
    """
    if fee_cents < 0:
        raise CheckoutError("A fee cannot be negative.")
    order = Order.objects.create(
        shopper=shopper,
        buyer_name=shopper.get_full_name(),
        buyer_email=shopper.email,
        total_cents=fee_cents,
        requires_letter=True,
    )
    OrderItem.objects.create(
        order=order,
        kind=OrderItemKind.CONSULTATION_FEE,
        name=f"Clinician review for a Letter of Medical Necessity: {category.name}",
        merchant_name=settings.SITE_NAME,
        category=category,
        category_name=category.name,
        unit_price_cents=fee_cents,
        quantity=1,
        eligibility=Eligibility.LMN_REQUIRED,
    )
    _audit("order.created", order, actor=shopper, request=request, total_cents=fee_cents, kind="consultation_fee")
    return order


# --------------------------------------------------------------------------- paying


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


def _new_payment(order: Order) -> Payment:
    return Payment.objects.create(
        order=order,
        provider=order_provider_name(order),
        amount_cents=order.total_cents,
        currency=order.currency,
    )


def _check_payable(order: Order, actor: User) -> None:
    if order.shopper_id != actor.pk:
        raise CheckoutError("This order belongs to someone else.")
    session = order.checkout_session
    if session is not None and session.status != CheckoutStatus.OPEN:
        raise CheckoutError("This checkout has ended. Start again from your cart.")
    if session is not None and not session.is_open:
        raise CheckoutError("This checkout expired. Start again from your cart.")


@transaction.atomic
def payment_prepare(*, order: Order, actor: User, request: HttpRequest | None = None) -> Payment:
    """The open payment the browser confirms (Stripe's Payment Element), created once per order.

    Reuses the order's payment that still requires authorization, so reloading
    the page never creates a second PaymentIntent.
    """
    order = _lock_order(order)
    _check_payable(order, actor)
    if order.status != OrderStatus.AWAITING_PAYMENT:
        raise CheckoutError("This order is already paid.")
    provider_name = order_provider_name(order)
    payment = (
        Payment.objects.select_for_update()
        .filter(order=order, status=PaymentStatus.REQUIRES_AUTHORIZATION, provider=provider_name)
        .exclude(provider_reference="")
        .first()
    )
    if payment is not None and payment.amount_cents == order.total_cents:
        return payment
    payment = _new_payment(order)
    try:
        answer = get_provider(payment.provider).authorize(
            payment=payment, idempotency_key=_idempotency_key(payment, "authorize")
        )
    except (ProviderError, PaymentDeclined) as exc:
        raise CheckoutError("We could not start the payment. Please try again in a moment.") from exc
    payment.provider_reference = answer.reference
    payment.save(update_fields=["provider_reference", "updated_at"])
    return payment


def payment_client_secret(*, payment: Payment) -> str:
    """The secret Stripe.js needs to confirm the payment in the browser (never stored)."""
    return provider_for_payment(payment).retrieve(payment=payment).client_secret


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
    """
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
        payment = _new_payment(locked)
        provider = get_provider(payment.provider)
        try:
            answer = provider.authorize(
                payment=payment,
                idempotency_key=_idempotency_key(payment, "authorize"),
                card=card,
                payment_method=payment_method,
            )
        except PaymentDeclined as declined:
            payment.provider_reference = declined.reference or ""
            payment.failure_code = declined.code[:64]
            payment.failure_message = declined.message[:255]
            _set_payment_status(payment, PaymentStatus.FAILED)
            _audit("payment.declined", payment, actor=actor, request=request, code=payment.failure_code)
            return PayResult(outcome="declined", payment=payment, message=declined.message)
        except ProviderError as exc:
            raise CheckoutError(
                "We could not reach the payment processor. Nothing was charged; please try again."
            ) from exc
        payment.provider_reference = answer.reference
        payment.save(update_fields=["provider_reference", "updated_at"])
        if answer.state == ProviderState.REQUIRES_AUTHORIZATION:
            return PayResult(outcome="requires_action", payment=payment, client_secret=answer.client_secret)
        payment = _apply_provider_state(payment=payment, order=locked, answer=answer, actor=actor, request=request)
        return PayResult(outcome="authorized", payment=payment)


@transaction.atomic
def payment_sync(*, payment: Payment, actor: User | None = None, request: HttpRequest | None = None) -> Payment:
    """Re-fetch the payment from its provider and bring our rows to that state (idempotent).

    Used when Stripe.js returns the shopper to the pay page and by the webhook:
    whatever order the news arrives in, the provider's current state decides.
    """
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    order = _lock_order(payment.order_id)
    answer = provider_for_payment(payment).retrieve(payment=payment)
    return _apply_provider_state(payment=payment, order=order, answer=answer, actor=actor, request=request)


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
    session = order.checkout_session
    if session is None:
        return
    session = CheckoutSession.objects.select_for_update().get(pk=session.pk)
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
    """The hold is in place: hold a letter order for review, capture any other order now."""
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
    provider = provider_for_payment(payment)
    try:
        answer = _capture_now(payment, order, actor, request)
    except ProviderError as exc:
        # Release the hold rather than leave money held for an order we could not confirm;
        # the surrounding transaction rolls our rows back.
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
        payment.card_brand = answer.card_brand[:20]
        payment.card_last4 = answer.card_last4[-4:]
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
        payment.authorized_at = timezone.now()
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
            if order.status == OrderStatus.AWAITING_PAYMENT:
                _complete_session(order)
                if order.requires_letter:
                    _set_order_status(order, OrderStatus.AWAITING_REVIEW)
                    _audit("order.placed", order, actor=actor, request=request, status=order.status)
                    _queue_email("order_under_review", order.pk)
                else:
                    _audit("order.placed", order, actor=actor, request=request, status=OrderStatus.AWAITING_PAYMENT)
                    _confirm_order(order, actor, request)
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


# --------------------------------------------------------------------------- the clinician's decision


def order_capture_after_approval(*, order: Order, actor: User | None, request: HttpRequest | None = None) -> Payment:
    """Capture a letter order's hold after a clinician approved it; the order becomes ``confirmed``.

    Call it in the same transaction as the approval. Idempotent: an order
    already confirmed answers its captured payment without calling the
    provider again, and the provider call carries an idempotency key, so a
    retry after a timeout captures once. Raises :class:`HoldExpired` when the
    hold lapsed (nothing is captured) and :class:`OrderStateError` when the
    order is not awaiting review.
    """
    with transaction.atomic():
        order = _lock_order(order)
        payment = _live_payment(order)
        if (
            order.status
            in (
                OrderStatus.CONFIRMED,
                OrderStatus.FULFILLED,
                OrderStatus.REFUNDED,
                OrderStatus.PARTIALLY_REFUNDED,
            )
            and payment is not None
        ):
            return payment
        if order.status != OrderStatus.AWAITING_REVIEW:
            raise OrderStateError(
                f"Order {order.reference} is {order.get_status_display().lower()}, not awaiting review."
            )
        if payment is None:
            expired = Payment.objects.filter(order=order, status=PaymentStatus.EXPIRED).exists()
            raise (HoldExpired if expired else OrderStateError)(f"Order {order.reference} has no payment to capture.")
        if payment.status == PaymentStatus.AUTHORIZED:
            answer = _capture_now(payment, order, actor, request)
            _record_capture(payment, answer, actor, request)
        _confirm_order(order, actor, request)
        return payment


def order_cancel_after_denial(
    *,
    order: Order,
    actor: User | None,
    reason: str = OrderCancelReason.LETTER_DENIED,
    request: HttpRequest | None = None,
    notify_shopper: bool = True,
) -> None:
    """Release a letter order's hold after a denial; nothing is charged; the order becomes ``cancelled``.

    ``reason`` is an :class:`~payments.models.OrderCancelReason` value (a code,
    never the clinician's free text, which stays with the consultation).
    Idempotent: an order already cancelled is left alone. If the payment was
    somehow captured already, it is refunded in full so nothing stays charged.
    ``notify_shopper=False`` skips the "order cancelled, nothing charged" email
    when the caller sends its own.
    """
    reason = OrderCancelReason(reason)
    with transaction.atomic():
        order = _lock_order(order)
        if order.status == OrderStatus.CANCELLED:
            return
        if order.status != OrderStatus.AWAITING_REVIEW:
            raise OrderStateError(
                f"Order {order.reference} is {order.get_status_display().lower()}, not awaiting review."
            )
        payment = _live_payment(order)
        if payment is not None and payment.status == PaymentStatus.AUTHORIZED:
            provider_for_payment(payment).cancel(payment=payment, idempotency_key=_idempotency_key(payment, "cancel"))
            _set_payment_status(payment, PaymentStatus.CANCELED)
            _audit("payment.canceled", payment, actor=actor, request=request)
        elif payment is not None and payment.status == PaymentStatus.CAPTURED:
            _refund(
                order=order,
                payment=payment,
                lines=None,
                reason="Letter not approved: nothing is charged.",
                actor=actor,
                request=request,
                change_order_status=False,
            )
        order.cancel_reason = reason
        _set_order_status(order, OrderStatus.CANCELLED)
        _audit("order.cancelled", order, actor=actor, request=request, reason=str(reason))
        if notify_shopper:
            _queue_email("order_cancelled", order.pk)


# --------------------------------------------------------------------------- the hold clock


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


# --------------------------------------------------------------------------- refunds and fulfilment


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
    for pk, qty in lines.items():
        item = items[pk]
        RefundItem.objects.create(
            refund=refund, order_item=item, quantity=qty, amount_cents=qty * item.unit_price_cents
        )
        item.refunded_quantity += qty
        item.refunded_cents += qty * item.unit_price_cents
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
) -> Refund:
    """Refund a whole order (``lines=None``) or chosen items (``{order_item_id: quantity}``) through the provider.

    Amounts come from the items' snapshotted prices. The order becomes
    ``refunded`` when everything is refunded, else ``partially_refunded``; the
    shopper is emailed.
    """
    reason = reason.strip()
    if not reason:
        raise RefundError("Give a reason for the refund.")
    with transaction.atomic():
        order = _lock_order(order)
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
