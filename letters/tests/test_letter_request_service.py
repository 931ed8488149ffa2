"""A letter without a purchase: the same intake and review, a per-category fee captured only on approval."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from consultations.models import ConsultationKind, ConsultationStatus, Questionnaire
from letters import services
from letters.models import DeliveryStatus, Letter, LetterRequest, LetterRequestKind
from letters.tests.conftest import APPROVED_CARD, approve, complete_intake, deny
from letters.tests.factories import LetterRequestFeeFactory
from marketplace.models import Category
from marketplace.tests.factories import CategoryFactory
from payments.models import OrderItemKind, OrderStatus, PaymentProviderName, PaymentStatus
from payments.providers import CardDetails

pytestmark = pytest.mark.django_db

DECLINED_CARD = CardDetails(number="4000000000000002", exp_month=12, exp_year=2035, cvc="123", name="Sam Shopper")


def test_starting_a_request_opens_a_standalone_intake_with_the_fee_frozen(
    questionnaire: Questionnaire, sleep: Category, sleep_fee: Any, shopper: User
) -> None:
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    assert letter_request.kind == LetterRequestKind.STANDALONE
    assert letter_request.fee_cents == 3_900
    consultation = letter_request.consultation
    assert consultation.kind == ConsultationKind.STANDALONE
    assert consultation.status == ConsultationStatus.DRAFT
    assert list(consultation.categories.all()) == [sleep]
    sleep_fee.amount_cents = 9_900
    sleep_fee.save()
    assert services.letter_request_start(shopper=shopper, category=sleep) == letter_request
    letter_request.refresh_from_db()
    assert letter_request.fee_cents == 3_900


def test_a_category_without_a_fee_or_questionnaire_cannot_be_requested(
    questionnaire: Questionnaire, shopper: User
) -> None:
    no_fee = questionnaire.category
    with pytest.raises(services.LetterError):
        services.letter_request_start(shopper=shopper, category=no_fee)
    no_questionnaire = LetterRequestFeeFactory(category=CategoryFactory(name="Posture")).category
    with pytest.raises(services.LetterError):
        services.letter_request_start(shopper=shopper, category=no_questionnaire)


def test_the_fee_is_authorized_not_captured_when_the_case_is_submitted(
    submitted_request: Callable[[User], LetterRequest], shopper: User
) -> None:
    letter_request = submitted_request(shopper)
    order = letter_request.order
    assert order is not None
    assert order.status == OrderStatus.AWAITING_REVIEW
    [item] = order.items.all()
    assert (item.kind, item.unit_price_cents, item.category_id) == (
        OrderItemKind.CONSULTATION_FEE,
        3_900,
        letter_request.category_id,
    )
    [payment] = order.payments.all()
    assert payment.status == PaymentStatus.AUTHORIZED
    assert payment.amount_captured_cents == 0
    assert letter_request.consultation.order == order
    assert letter_request.consultation.review_deadline == payment.capture_before


def test_an_approved_request_captures_the_fee_and_delivers_the_letter(
    issue_letter: Callable[[User], Letter], shopper: User, mailoutbox: list[Any]
) -> None:
    letter = issue_letter(shopper)
    order = LetterRequest.objects.get(consultation=letter.consultation).order
    assert order is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    [payment] = order.payments.all()
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.amount_captured_cents == 3_900
    assert letter.deliveries.get().status == DeliveryStatus.SENT
    assert letter.covered_product_names == ["Cooling Sleep Pad"]
    assert any(m.attachments for m in mailoutbox)


def test_a_denied_request_cancels_the_hold_and_charges_nothing(
    submitted_request: Callable[[User], LetterRequest], licensed: User, shopper: User
) -> None:
    letter_request = submitted_request(shopper)
    deny(letter_request.consultation, licensed)
    order = letter_request.order
    assert order is not None
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    [payment] = order.payments.all()
    assert payment.status == PaymentStatus.CANCELED
    assert payment.amount_captured_cents == 0
    assert not Letter.objects.exists()


def test_a_zero_fee_needs_no_card(questionnaire: Questionnaire, sleep: Category, licensed: User, shopper: User) -> None:
    LetterRequestFeeFactory(category=sleep, amount_cents=0)
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    complete_intake(letter_request.consultation)
    result = services.letter_request_pay(letter_request=letter_request, actor=shopper)
    assert result.outcome == "authorized"
    letter_request.refresh_from_db()
    assert letter_request.order is not None
    assert letter_request.order.payments.get().provider == PaymentProviderName.NONE
    letter = approve(letter_request.consultation, licensed)
    assert letter.status == "issued"
    letter_request.order.refresh_from_db()
    assert letter_request.order.status == OrderStatus.CONFIRMED


def test_paying_before_the_intake_is_finished_is_refused(
    questionnaire: Questionnaire, sleep: Category, sleep_fee: Any, shopper: User
) -> None:
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    with pytest.raises(services.LetterError, match="questionnaire"):
        services.letter_request_pay(letter_request=letter_request, actor=shopper, card=APPROVED_CARD)
    letter_request.refresh_from_db()
    assert letter_request.order is None


def test_a_declined_card_keeps_the_intake_waiting_for_another_card(
    questionnaire: Questionnaire, sleep: Category, sleep_fee: Any, shopper: User
) -> None:
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    complete_intake(letter_request.consultation)
    result = services.letter_request_pay(letter_request=letter_request, actor=shopper, card=DECLINED_CARD)
    assert result.outcome == "declined"
    letter_request.consultation.refresh_from_db()
    assert letter_request.consultation.status == ConsultationStatus.DRAFT
    order = letter_request.order
    result = services.letter_request_pay(letter_request=letter_request, actor=shopper, card=APPROVED_CARD)
    assert result.outcome == "authorized"
    letter_request.refresh_from_db()
    assert letter_request.order == order
    assert letter_request.consultation.status == ConsultationStatus.SUBMITTED


def test_submitting_after_payment_is_idempotent(
    submitted_request: Callable[[User], LetterRequest], shopper: User
) -> None:
    letter_request = submitted_request(shopper)
    assert services.letter_request_after_payment(order=letter_request.order) is False
    letter_request.consultation.refresh_from_db()
    assert letter_request.consultation.status == ConsultationStatus.SUBMITTED


def test_someone_else_cannot_pay_a_request(
    questionnaire: Questionnaire, sleep: Category, sleep_fee: Any, shopper: User, other_shopper: User
) -> None:
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    complete_intake(letter_request.consultation)
    with pytest.raises(services.LetterError):
        services.letter_request_pay(letter_request=letter_request, actor=other_shopper, card=APPROVED_CARD)


def test_starting_again_after_a_declined_card_continues_the_same_request(
    questionnaire: Questionnaire, sleep: Category, sleep_fee: Any, shopper: User
) -> None:
    # Back from the pay page to /letters/request/ and the same category again: no second intake, fee or hold.
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    complete_intake(letter_request.consultation)
    result = services.letter_request_pay(letter_request=letter_request, actor=shopper, card=DECLINED_CARD)
    assert result.outcome == "declined"
    assert services.letter_request_start(shopper=shopper, category=sleep) == letter_request
    assert LetterRequest.objects.filter(shopper=shopper).count() == 1
