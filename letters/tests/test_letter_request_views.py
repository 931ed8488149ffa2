"""/letters/request/ and its fee payment page /letters/request/<consultation>/pay/."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from consultations.models import ConsultationStatus, Questionnaire
from letters import services
from letters.models import LetterRequest
from letters.tests.conftest import complete_intake
from letters.tests.factories import LetterRequestFeeFactory
from marketplace.models import Category
from marketplace.tests.factories import CategoryFactory
from payments.models import OrderStatus, PaymentStatus

pytestmark = pytest.mark.django_db

URL = "/letters/request/"
CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12 / 35", "card_cvc": "123", "card_name": "Sam Shopper"}


@pytest.fixture
def shopper_client(client: Client, shopper: User) -> Client:
    client.force_login(shopper)
    return client


def pay_url(letter_request: LetterRequest) -> str:
    return reverse("letters:request_pay", args=[letter_request.consultation_id])


def test_the_url_name_is_letters_request() -> None:
    assert reverse("letters:request") == URL


def test_the_page_offers_each_category_with_a_fee_and_a_questionnaire(
    shopper_client: Client, questionnaire: Questionnaire, sleep_fee: Any
) -> None:
    LetterRequestFeeFactory(category=CategoryFactory(name="Posture"), amount_cents=1_900)  # no questionnaire
    LetterRequestFeeFactory(category=CategoryFactory(name="Recovery"), active=False)
    response = shopper_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sleep &amp; home wellness" in html and "$39.00" in html
    assert "Posture" not in html and "Recovery" not in html
    assert "charged only if a clinician approves" in html


def test_a_free_category_says_no_fee(shopper_client: Client, questionnaire: Questionnaire, sleep: Category) -> None:
    LetterRequestFeeFactory(category=sleep, amount_cents=0)
    assert "No fee" in shopper_client.get(URL).content.decode()


def test_choosing_a_category_starts_the_intake(
    shopper_client: Client, shopper: User, questionnaire: Questionnaire, sleep: Category, sleep_fee: Any
) -> None:
    response = shopper_client.post(URL, {"category": str(sleep.pk)})
    letter_request = LetterRequest.objects.get(shopper=shopper)
    assert response.status_code == 302
    assert response["Location"] == reverse("consultations:detail", args=[letter_request.consultation_id])
    again = shopper_client.post(URL, {"category": str(sleep.pk)})
    assert again["Location"] == response["Location"]
    assert LetterRequest.objects.count() == 1


def test_an_unknown_category_is_refused(shopper_client: Client, questionnaire: Questionnaire, sleep_fee: Any) -> None:
    response = shopper_client.post(URL, {"category": "00000000-0000-0000-0000-000000000000"})
    assert response.status_code == 400
    assert not LetterRequest.objects.exists()


def test_anonymous_visitors_sign_in_and_clinicians_get_403(client: Client, clinician: User) -> None:
    assert client.get(URL).status_code == 302
    client.force_login(clinician)
    assert client.get(URL).status_code == 403


@pytest.fixture
def ready(shopper: User, questionnaire: Questionnaire, sleep: Category, sleep_fee: Any) -> LetterRequest:
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    complete_intake(letter_request.consultation)
    return letter_request


def test_the_pay_page_shows_the_fee_as_a_hold(shopper_client: Client, ready: LetterRequest) -> None:
    response = shopper_client.get(pay_url(ready))
    assert response.status_code == 200
    html = response.content.decode()
    assert "$39.00" in html
    assert "authorized, not charged" in html
    assert 'name="card_number"' in html
    assert "no-store" in response["Cache-Control"]


def test_paying_authorizes_the_fee_and_sends_the_case_for_review(shopper_client: Client, ready: LetterRequest) -> None:
    response = shopper_client.post(pay_url(ready), CARD)
    assert response.status_code == 302
    assert response["Location"] == reverse("consultations:detail", args=[ready.consultation_id])
    ready.refresh_from_db()
    ready.consultation.refresh_from_db()
    assert ready.consultation.status == ConsultationStatus.SUBMITTED
    assert ready.order is not None and ready.order.status == OrderStatus.AWAITING_REVIEW
    assert ready.order.payments.get().status == PaymentStatus.AUTHORIZED
    # Once sent, the pay page goes back to the consultation.
    assert shopper_client.get(pay_url(ready))["Location"] == response["Location"]


def test_a_declined_card_stays_on_the_page(shopper_client: Client, ready: LetterRequest) -> None:
    response = shopper_client.post(pay_url(ready), {**CARD, "card_number": "4000 0000 0000 0002"})
    assert response.status_code == 402
    assert "declined" in response.content.decode()
    ready.consultation.refresh_from_db()
    assert ready.consultation.status == ConsultationStatus.DRAFT


def test_an_unfinished_intake_goes_back_to_the_questionnaire(
    shopper_client: Client, shopper: User, questionnaire: Questionnaire, sleep: Category, sleep_fee: Any
) -> None:
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    response = shopper_client.get(pay_url(letter_request))
    assert response["Location"] == reverse("consultations:detail", args=[letter_request.consultation_id])
    assert shopper_client.post(pay_url(letter_request), CARD).status_code == 302
    letter_request.refresh_from_db()
    assert letter_request.order is None


def test_another_shoppers_request_is_404(client: Client, other_shopper: User, ready: LetterRequest) -> None:
    client.force_login(other_shopper)
    assert client.get(pay_url(ready)).status_code == 404
    assert client.post(pay_url(ready), CARD).status_code == 404


def test_the_vault_leads_a_finished_intake_to_the_pay_step(shopper_client: Client, ready: LetterRequest) -> None:
    html = shopper_client.get(reverse("letters:vault")).content.decode()
    assert pay_url(ready) in html
    assert "Ready to send for review" in html


def test_the_vault_leads_an_unfinished_intake_back_to_the_questionnaire(
    shopper_client: Client, shopper: User, questionnaire: Questionnaire, sleep: Category, sleep_fee: Any
) -> None:
    letter_request = services.letter_request_start(shopper=shopper, category=sleep)
    html = shopper_client.get(reverse("letters:vault")).content.decode()
    assert reverse("consultations:detail", args=[letter_request.consultation_id]) in html
    assert pay_url(letter_request) not in html
