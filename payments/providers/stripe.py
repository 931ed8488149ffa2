"""The ``stripe`` provider: a PaymentIntent with ``capture_method=manual`` per payment.

HSA/FSA cards are ordinary card payments, so a hold is a PaymentIntent that is
authorized now and captured (or cancelled) when the order is decided. Every
write carries an ``Idempotency-Key`` derived from the payment and the action,
so a call retried after a timeout is done by Stripe once.
https://docs.stripe.com/payments/place-a-hold-on-a-payment-method
https://docs.stripe.com/api/idempotent_requests

``authorize`` first creates the PaymentIntent from the payment row alone (so a
retry with the payment's key gets the same PaymentIntent back, whichever card
is used) and then confirms it with the card's PaymentMethod. One payment row is
one PaymentIntent, and a PaymentIntent holds or charges at most once: a retry
after a lost answer can never charge twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings

from payments.models import Payment, PaymentProviderName

from .base import (
    CardDetails,
    PaymentDeclined,
    PaymentProvider,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    ProviderState,
)

_STATE_OF_INTENT: dict[str, ProviderState] = {
    "requires_payment_method": ProviderState.REQUIRES_AUTHORIZATION,
    "requires_confirmation": ProviderState.REQUIRES_AUTHORIZATION,
    "requires_action": ProviderState.REQUIRES_AUTHORIZATION,
    "processing": ProviderState.PROCESSING,
    "requires_capture": ProviderState.AUTHORIZED,
    "succeeded": ProviderState.CAPTURED,
    "canceled": ProviderState.CANCELED,
}

# A PaymentIntent in these states takes a card; in any other it already holds, charged or ended.
_CONFIRMABLE = frozenset({"requires_payment_method", "requires_confirmation"})

# The stripe library retries a request that failed on the network, resending
# the same Idempotency-Key. https://github.com/stripe/stripe-python#configuring-automatic-retries
MAX_NETWORK_RETRIES = 2


def http_client() -> stripe.HTTPClient | None:
    """The HTTP client the Stripe library uses; ``None`` means its default. Tests swap it."""
    return None


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _replayed(obj: Any) -> bool:
    """Whether Stripe answered with the saved response of an earlier request with the same key."""
    response = getattr(obj, "last_response", None)
    headers = getattr(response, "headers", None) or {}
    return any(
        name.lower() == "idempotent-replayed" and str(value).lower() == "true" for name, value in headers.items()
    )


class StripeProvider(PaymentProvider):
    name = PaymentProviderName.STRIPE
    uses_card_form = False

    def __init__(self) -> None:
        if not settings.STRIPE_SECRET_KEY:
            raise ProviderError("STRIPE_SECRET_KEY is not set.")
        base_addresses: dict[str, str] = {}
        if settings.STRIPE_API_BASE:
            base_addresses["api"] = settings.STRIPE_API_BASE
        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses=base_addresses,  # type: ignore[arg-type]
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=http_client(),
        )

    # -- reading a PaymentIntent

    def _card(self, intent: Any) -> tuple[str, str]:
        method = _get(intent, "payment_method")
        if isinstance(method, str) and method:
            try:
                method = self.client.v1.payment_methods.retrieve(method)
            except stripe.StripeError:
                return "", ""
        card = _get(method, "card")
        return str(_get(card, "brand", "")), str(_get(card, "last4", ""))

    def _answer(self, intent: Any) -> ProviderPayment:
        status = str(_get(intent, "status", ""))
        state = _STATE_OF_INTENT.get(status)
        if state is None:
            raise ProviderError(f"Unexpected PaymentIntent status {status!r}.")
        charge = _get(intent, "latest_charge")
        if isinstance(charge, str) and charge:
            charge = self.client.v1.charges.retrieve(charge)
        amount = int(_get(intent, "amount", 0))
        if state == ProviderState.CAPTURED:
            captured = int(_get(intent, "amount_received", 0) or _get(charge, "amount_captured", 0) or amount)
        else:
            captured = 0
        error = _get(intent, "last_payment_error")
        brand, last4 = self._card(intent)
        created = _get(charge, "created") if state in (ProviderState.AUTHORIZED, ProviderState.CAPTURED) else None
        authorized_at = datetime.fromtimestamp(created, tz=UTC) if isinstance(created, int) and created > 0 else None
        return ProviderPayment(
            reference=str(_get(intent, "id")),
            state=state,
            amount_cents=amount,
            amount_captured_cents=captured,
            amount_refunded_cents=int(_get(charge, "amount_refunded", 0)),
            card_brand=brand,
            card_last4=last4,
            client_secret=str(_get(intent, "client_secret", "")),
            decline_code=str(_get(error, "decline_code", "") or _get(error, "code", "")) if error else "",
            decline_message=str(_get(error, "message", "")) if error else "",
            authorized_at=authorized_at,
        )

    def _retrieve_intent(self, reference: str) -> Any:
        return self.client.v1.payment_intents.retrieve(
            reference, params={"expand": ["latest_charge", "payment_method"]}
        )

    # -- the interface

    def _create_intent(self, payment: Payment, idempotency_key: str) -> Any:
        """The payment's PaymentIntent, created once whatever the number of calls.

        The parameters come from the payment row alone and the key from the
        payment's id, so a call repeated after its answer was lost (or our
        database failed to record it) is the same request: Stripe answers the
        first PaymentIntent again instead of making a second one. A replayed
        answer shows the PaymentIntent as it was created, so it is re-fetched.
        """
        params: dict[str, Any] = {
            "amount": payment.amount_cents,
            "currency": payment.currency,
            "capture_method": "manual",
            "payment_method_types": ["card"],
            # The webhook finds a payment whose reference we never saved by these.
            "metadata": {"order_id": str(payment.order_id), "payment_id": str(payment.id)},
        }
        intent = self.client.v1.payment_intents.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
        if _replayed(intent):
            intent = self._retrieve_intent(str(_get(intent, "id")))
        return intent

    def _confirm(self, intent: Any, payment_method: str, idempotency_key: str) -> Any:
        reference = str(_get(intent, "id"))
        try:
            return self.client.v1.payment_intents.confirm(
                reference,
                params={"payment_method": payment_method},
                # One key per card: the same card retried replays its answer; another card is a new try.
                options={"idempotency_key": f"{idempotency_key}:confirm:{payment_method}"},
            )
        except stripe.InvalidRequestError as exc:
            # Confirmed already (a concurrent or earlier call whose answer we lost): the hold is
            # what it is, and a PaymentIntent never holds or charges twice.
            current = self._retrieve_intent(reference)
            if _STATE_OF_INTENT.get(str(_get(current, "status", ""))) in (
                ProviderState.AUTHORIZED,
                ProviderState.CAPTURED,
                ProviderState.PROCESSING,
            ):
                return current
            raise ProviderError(f"Stripe refused the confirmation: {exc.user_message}") from exc

    def authorize(
        self, *, payment: Payment, idempotency_key: str, card: CardDetails | None = None, payment_method: str = ""
    ) -> ProviderPayment:
        if card is not None:
            raise ProviderError("Card numbers never reach our server with Stripe: use the Payment Element.")
        intent: Any = None
        try:
            if payment.provider_reference:
                intent = self._retrieve_intent(payment.provider_reference)
            else:
                intent = self._create_intent(payment, idempotency_key)
            if payment_method and str(_get(intent, "status", "")) in _CONFIRMABLE:
                intent = self._confirm(intent, payment_method, idempotency_key)
        except stripe.CardError as exc:
            raise self._declined(exc, str(_get(intent, "id", ""))) from exc
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe: {exc.user_message or exc.__class__.__name__}") from exc
        return self._answer(intent)

    def recover(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        if payment.provider_reference:
            return self.retrieve(payment=payment)
        try:
            # Within Stripe's 24 hours of idempotency this is the PaymentIntent the lost call made;
            # if that call never reached Stripe, it is a new one that holds nothing.
            return self._answer(self._create_intent(payment, idempotency_key))
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe: {exc.user_message or exc.__class__.__name__}") from exc

    def _declined(self, exc: stripe.CardError, reference: str) -> PaymentDeclined:
        error = exc.error
        code = str(_get(error, "decline_code", "") or exc.code or "card_declined")
        intent = _get(error, "payment_intent")
        return PaymentDeclined(
            code=code,
            message=exc.user_message or "Your card was declined.",
            reference=str(_get(intent, "id", "") or reference),
        )

    def retrieve(self, *, payment: Payment) -> ProviderPayment:
        try:
            return self._answer(self._retrieve_intent(payment.provider_reference))
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe: {exc.user_message or exc.__class__.__name__}") from exc

    def capture(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        try:
            intent = self.client.v1.payment_intents.capture(
                payment.provider_reference, options={"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as exc:
            # Captured already (by an earlier call whose answer was lost): Stripe's state is the truth.
            current = self.retrieve(payment=payment)
            if current.state == ProviderState.CAPTURED:
                return current
            raise ProviderError(f"Stripe refused the capture: {exc.user_message}") from exc
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe: {exc.user_message or exc.__class__.__name__}") from exc
        return self._answer(intent)

    def cancel(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        try:
            intent = self.client.v1.payment_intents.cancel(
                payment.provider_reference, options={"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as exc:
            current = self.retrieve(payment=payment)
            if current.state == ProviderState.CANCELED:
                return current
            raise ProviderError(f"Stripe refused the cancellation: {exc.user_message}") from exc
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe: {exc.user_message or exc.__class__.__name__}") from exc
        return self._answer(intent)

    def refund(self, *, payment: Payment, amount_cents: int, idempotency_key: str) -> ProviderRefund:
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment.provider_reference, "amount": amount_cents},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the refund: {exc.user_message or exc.__class__.__name__}") from exc
        status = str(_get(refund, "status", ""))
        return ProviderRefund(
            reference=str(_get(refund, "id")),
            succeeded=status in ("succeeded", "pending"),
            failure_message=str(_get(refund, "failure_reason", "")) if status == "failed" else "",
        )
