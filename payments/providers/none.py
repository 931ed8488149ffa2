"""A zero-amount order (for example a $0 consultation fee) has nothing to hold or charge."""

from __future__ import annotations

from payments.models import Payment, PaymentProviderName

from .base import CardDetails, PaymentProvider, ProviderError, ProviderPayment, ProviderRefund, ProviderState


class NoPaymentProvider(PaymentProvider):
    name = PaymentProviderName.NONE

    def _state(self, payment: Payment, state: ProviderState) -> ProviderPayment:
        return ProviderPayment(reference=f"none_{payment.id.hex}", state=state, amount_cents=0)

    def authorize(
        self, *, payment: Payment, idempotency_key: str, card: CardDetails | None = None, payment_method: str = ""
    ) -> ProviderPayment:
        if payment.amount_cents:
            raise ProviderError("Only a zero-amount payment needs no provider.")
        return self._state(payment, ProviderState.AUTHORIZED)

    def retrieve(self, *, payment: Payment) -> ProviderPayment:
        return self._state(
            payment, ProviderState(payment.status) if payment.status in ProviderState else ProviderState.AUTHORIZED
        )

    def capture(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        return self._state(payment, ProviderState.CAPTURED)

    def cancel(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        return self._state(payment, ProviderState.CANCELED)

    def refund(self, *, payment: Payment, amount_cents: int, idempotency_key: str) -> ProviderRefund:
        raise ProviderError("Nothing was charged, so there is nothing to refund.")
