"""The ``test`` provider: an in-process card processor that behaves like Stripe's test cards.

It is the embedded default for development. It keeps no state of its own (the
``Payment`` row is its ledger, so several processes agree), derives every
reference from the payment or the idempotency key (a retried call answers the
same), and sees the card only while authorizing: brand and last 4 come back,
nothing else is kept. A system check refuses it with ``DEBUG`` off unless
``PAYMENTS_ALLOW_TEST_PROVIDER`` is set.
"""

from __future__ import annotations

import hashlib

from payments.models import Payment, PaymentProviderName, PaymentStatus

from .base import (
    CardDetails,
    PaymentDeclined,
    PaymentProvider,
    ProviderError,
    ProviderPayment,
    ProviderRefund,
    ProviderState,
)

# Stripe's documented test cards (https://docs.stripe.com/testing#cards) that this provider knows.
APPROVED_CARDS: dict[str, str] = {
    "4242424242424242": "visa",
    "4000056655665556": "visa",
    "5555555555554444": "mastercard",
    "2223003122003222": "mastercard",
    "378282246310005": "amex",
    "6011111111111117": "discover",
}
DECLINED_CARDS: dict[str, tuple[str, str]] = {
    "4000000000000002": ("generic_decline", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("lost_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": (
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
NOT_A_TEST_CARD = (
    "card_declined",
    "This is a test checkout: use a test card such as 4242 4242 4242 4242. Real cards are never charged here.",
)

# Statuses of our payment row as this provider reports them.
_STATE_OF_STATUS: dict[str, ProviderState] = {
    PaymentStatus.REQUIRES_AUTHORIZATION: ProviderState.REQUIRES_AUTHORIZATION,
    PaymentStatus.AUTHORIZED: ProviderState.AUTHORIZED,
    PaymentStatus.CAPTURED: ProviderState.CAPTURED,
    PaymentStatus.REFUNDED: ProviderState.CAPTURED,
    PaymentStatus.PARTIALLY_REFUNDED: ProviderState.CAPTURED,
    PaymentStatus.CANCELED: ProviderState.CANCELED,
    PaymentStatus.EXPIRED: ProviderState.CANCELED,
    PaymentStatus.FAILED: ProviderState.FAILED,
}


def _key_reference(prefix: str, key: str) -> str:
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class TestCardProvider(PaymentProvider):
    __test__ = False  # not a pytest test class
    name = PaymentProviderName.TEST
    uses_card_form = True

    def _reference(self, payment: Payment) -> str:
        return payment.provider_reference or f"test_pi_{payment.id.hex[:24]}"

    def _answer(self, payment: Payment, state: ProviderState, **extra: object) -> ProviderPayment:
        captured = payment.amount_cents if state == ProviderState.CAPTURED else 0
        return ProviderPayment(
            reference=self._reference(payment),
            state=state,
            amount_cents=payment.amount_cents,
            amount_captured_cents=captured,
            amount_refunded_cents=payment.amount_refunded_cents,
            card_brand=str(extra.get("card_brand", payment.card_brand)),
            card_last4=str(extra.get("card_last4", payment.card_last4)),
        )

    def authorize(
        self, *, payment: Payment, idempotency_key: str, card: CardDetails | None = None, payment_method: str = ""
    ) -> ProviderPayment:
        if card is None:
            raise ProviderError("The test provider authorizes a card typed into its form.")
        number = card.number
        if number in DECLINED_CARDS:
            code, message = DECLINED_CARDS[number]
            raise PaymentDeclined(code=code, message=message, reference=self._reference(payment))
        brand = APPROVED_CARDS.get(number)
        if brand is None:
            code, message = NOT_A_TEST_CARD
            raise PaymentDeclined(code=code, message=message, reference=self._reference(payment))
        return self._answer(payment, ProviderState.AUTHORIZED, card_brand=brand, card_last4=number[-4:])

    def retrieve(self, *, payment: Payment) -> ProviderPayment:
        return self._answer(payment, _STATE_OF_STATUS[payment.status])

    def capture(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        state = _STATE_OF_STATUS[payment.status]
        if state not in (ProviderState.AUTHORIZED, ProviderState.CAPTURED):
            raise ProviderError(f"Cannot capture a payment that is {payment.status}.")
        return self._answer(payment, ProviderState.CAPTURED)

    def cancel(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        state = _STATE_OF_STATUS[payment.status]
        if state == ProviderState.CAPTURED:
            raise ProviderError("Cannot cancel a captured payment; refund it instead.")
        return self._answer(payment, ProviderState.CANCELED)

    def refund(self, *, payment: Payment, amount_cents: int, idempotency_key: str) -> ProviderRefund:
        if amount_cents > payment.amount_captured_cents - payment.amount_refunded_cents:
            raise ProviderError("Cannot refund more than was captured.")
        return ProviderRefund(reference=_key_reference("test_re", idempotency_key), succeeded=True)
