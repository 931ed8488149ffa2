"""The intake at checkout: step by step, every rule checked on the server, resumable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, User
from consultations.models import Consultation, ConsultationStatus, Questionnaire
from consultations.tests.support import start_checkout
from flexlmn.tests.disclosure import assert_not_disclosed
from marketplace.models import Product
from payments import services as payments

pytestmark = pytest.mark.django_db

DETAILS = {"legal_name": "Sam Q. Shopper", "date_of_birth": "1988-04-12", "sex": "female", "state": "TX"}
CONDITIONS = {"conditions": ["insomnia"], "sleep_hours": "5"}
DAILY = {"impact": "Working a full day after waking at 3 am.", "diagnosed_on": ""}


@pytest.fixture
def draft(questionnaire: Questionnaire, sleep_pad: Product, shopper: User) -> Consultation:
    order = start_checkout(shopper, sleep_pad)
    payments.checkout_next_step_url(session=order.checkout_session)
    return Consultation.objects.get(checkout_session=order.checkout_session)


@pytest.fixture
def patient_client(client: Client, shopper: User) -> Client:
    client.force_login(shopper)
    return client


def step_url(consultation: Consultation, step: int) -> str:
    return f"/consultations/{consultation.pk}/step/{step}/"


def test_checkout_sends_the_shopper_to_the_intake_first(draft: Consultation) -> None:
    assert draft.status == ConsultationStatus.DRAFT
    assert payments.checkout_next_step_url(session=draft.checkout_session) == f"/consultations/{draft.pk}/"
    assert draft.order is not None


def test_the_first_step_says_a_clinician_reviews_and_approval_is_not_guaranteed(
    patient_client: Client, draft: Consultation
) -> None:
    response = patient_client.get(f"/consultations/{draft.pk}/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == step_url(draft, 0)
    assert "A licensed clinician reviews your answers" in html
    assert "Approval is not guaranteed" in html
    assert "Step 1 of 5" in html
    assert "pct-20" in html
    assert "no-store" in response["Cache-Control"]


def test_an_adult_in_a_us_state_moves_on(patient_client: Client, draft: Consultation) -> None:
    response = patient_client.post(step_url(draft, 0), DETAILS)
    assert response.status_code == 302
    assert response["Location"] == step_url(draft, 1)
    draft.refresh_from_db()
    assert (draft.legal_name, draft.date_of_birth, draft.sex, draft.state) == (
        "Sam Q. Shopper",
        date(1988, 4, 12),
        "female",
        "TX",
    )
    assert draft.current_step == 1


def test_under_18_gets_a_clear_message_and_nothing_is_stored(patient_client: Client, draft: Consultation) -> None:
    today = timezone.localdate()
    seventeen = date(today.year - 17, today.month, min(today.day, 28))  # no 29 February 17 years ago
    response = patient_client.post(step_url(draft, 0), {**DETAILS, "date_of_birth": seventeen.isoformat()})
    assert response.status_code == 400
    assert "you must be 18 or older" in response.content.decode()
    draft.refresh_from_db()
    assert draft.date_of_birth is None and draft.legal_name == ""
    assert draft.current_step == 0
    assert draft.status == ConsultationStatus.DRAFT


def test_turning_18_today_is_old_enough(patient_client: Client, draft: Consultation) -> None:
    today = timezone.localdate()
    born = (
        today.replace(year=today.year - 18)
        if not (today.month == 2 and today.day == 29)
        else date(today.year - 18, 2, 28)
    )
    response = patient_client.post(step_url(draft, 0), {**DETAILS, "date_of_birth": born.isoformat()})
    assert response.status_code == 302


@pytest.mark.parametrize("state", ["outside_us", "ZZ", "PR"])
def test_outside_the_us_states_gets_a_clear_message(patient_client: Client, draft: Consultation, state: str) -> None:
    response = patient_client.post(step_url(draft, 0), {**DETAILS, "state": state})
    assert response.status_code == 400
    html = response.content.decode()
    assert "licensed in US states only" in html or "Select a valid choice" in html
    draft.refresh_from_db()
    assert draft.state == ""


def test_the_outside_us_option_explains_why(patient_client: Client, draft: Consultation) -> None:
    response = patient_client.post(step_url(draft, 0), {**DETAILS, "state": "outside_us"})
    assert "licensed in US states only" in response.content.decode()


def test_a_date_of_birth_in_the_future_is_refused(patient_client: Client, draft: Consultation) -> None:
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = patient_client.post(step_url(draft, 0), {**DETAILS, "date_of_birth": future})
    assert response.status_code == 400
    assert "real date of birth" in response.content.decode()


def test_an_ssn_in_the_name_is_refused_with_a_message_that_it_is_never_needed(
    patient_client: Client, draft: Consultation
) -> None:
    response = patient_client.post(step_url(draft, 0), {**DETAILS, "legal_name": "Sam Shopper 123-45-6789"})
    assert response.status_code == 400
    assert "never needs your Social Security number" in response.content.decode()


def _reach(patient_client: Client, draft: Consultation, step: int) -> None:
    posts = [DETAILS, CONDITIONS, DAILY, {"safety": "no"}]
    for index in range(step):
        assert patient_client.post(step_url(draft, index), posts[index]).status_code == 302


def test_an_ssn_in_a_free_text_answer_is_refused(patient_client: Client, draft: Consultation) -> None:
    _reach(patient_client, draft, 2)
    response = patient_client.post(step_url(draft, 2), {**DAILY, "impact": "My social is 123 45 6789, for the record"})
    assert response.status_code == 400
    assert "never needs your Social Security number" in response.content.decode()
    draft.refresh_from_db()
    assert "impact" not in draft.answers[str(draft.questionnaires.get().pk)]


def test_answers_longer_than_the_cap_are_refused(patient_client: Client, draft: Consultation) -> None:
    response = patient_client.post(step_url(draft, 0), {**DETAILS, "legal_name": "A" * 151})
    assert response.status_code == 400
    _reach(patient_client, draft, 2)
    response = patient_client.post(step_url(draft, 2), {**DAILY, "impact": "x" * 201})
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()


def test_numbers_outside_their_range_and_future_dates_are_refused(patient_client: Client, draft: Consultation) -> None:
    _reach(patient_client, draft, 1)
    response = patient_client.post(step_url(draft, 1), {**CONDITIONS, "sleep_hours": "30"})
    assert response.status_code == 400
    _reach(patient_client, draft, 2)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = patient_client.post(step_url(draft, 2), {**DAILY, "diagnosed_on": tomorrow})
    assert response.status_code == 400
    assert "between 1900 and today" in response.content.decode()


def test_a_disqualifying_answer_ends_the_consultation_before_any_payment(
    patient_client: Client, draft: Consultation
) -> None:
    _reach(patient_client, draft, 1)
    response = patient_client.post(step_url(draft, 1), {"conditions": ["none"], "sleep_hours": "7"}, follow=True)
    draft.refresh_from_db()
    assert draft.status == ConsultationStatus.DISQUALIFIED
    html = response.content.decode()
    assert "we ended this consultation kindly" in html
    assert "Nothing has been charged" in html
    # The checkout cannot go on to payment: it keeps pointing at the consultation page.
    assert payments.checkout_next_step_url(session=draft.checkout_session) == f"/consultations/{draft.pk}/"
    assert not draft.order.payments.exists()
    assert AuditEvent.objects.filter(action="consultation.disqualified", object_id=str(draft.pk)).exists()


def test_a_disqualified_letter_request_does_not_point_to_a_cart(
    patient_client: Client, questionnaire: Questionnaire, shopper: User
) -> None:
    from consultations.models import ConsultationKind
    from consultations.services import consultation_disqualify, consultation_start

    request = consultation_start(patient=shopper, categories=[questionnaire.category], kind=ConsultationKind.STANDALONE)
    consultation_disqualify(consultation=request, message="Not the right fit.")
    html = patient_client.get(f"/consultations/{request.pk}/").content.decode()
    assert "Nothing has been charged" in html
    # A letter request bought nothing: there is no cart to go back to.
    assert "stay in your cart" not in html and "Back to your cart" not in html


def test_a_disqualifying_yes_no_answer_uses_the_default_kind_message(
    patient_client: Client, draft: Consultation
) -> None:
    _reach(patient_client, draft, 3)
    response = patient_client.post(step_url(draft, 3), {"safety": "yes"}, follow=True)
    draft.refresh_from_db()
    assert draft.status == ConsultationStatus.DISQUALIFIED
    assert "not the right fit for you" in response.content.decode()


def test_leaving_and_coming_back_resumes_where_the_shopper_stopped(patient_client: Client, draft: Consultation) -> None:
    _reach(patient_client, draft, 2)
    response = patient_client.get(f"/consultations/{draft.pk}/")
    assert response.status_code == 302
    assert response["Location"] == step_url(draft, 2)


def test_steps_ahead_of_the_furthest_reached_cannot_be_skipped_to(patient_client: Client, draft: Consultation) -> None:
    _reach(patient_client, draft, 1)
    response = patient_client.get(step_url(draft, 4))
    assert response["Location"] == step_url(draft, 1)
    response = patient_client.post(step_url(draft, 4), {"consent_telehealth": "on", "attest_true": "on"})
    assert response["Location"] == step_url(draft, 1)
    draft.refresh_from_db()
    assert draft.intake_completed_at is None


def test_back_and_forward_keep_answers(patient_client: Client, draft: Consultation) -> None:
    _reach(patient_client, draft, 2)
    # Back from step 2 with one valid and one missing answer: the valid one is kept.
    response = patient_client.post(step_url(draft, 2), {"back": "1", "impact": "", "diagnosed_on": "2020-01-15"})
    assert response["Location"] == step_url(draft, 1)
    page = patient_client.get(step_url(draft, 1)).content.decode()
    assert 'value="insomnia"' in page and "checked" in page
    assert 'value="5"' in page
    page = patient_client.get(step_url(draft, 2)).content.decode()
    assert 'value="2020-01-15"' in page
    page = patient_client.get(step_url(draft, 0)).content.decode()
    assert 'value="Sam Q. Shopper"' in page and 'value="1988-04-12"' in page


def test_back_never_stores_an_ssn(patient_client: Client, draft: Consultation) -> None:
    _reach(patient_client, draft, 2)
    patient_client.post(step_url(draft, 2), {"back": "1", "impact": "SSN 123-45-6789"})
    draft.refresh_from_db()
    assert "impact" not in draft.answers[str(draft.questionnaires.get().pk)]


def test_consent_and_attestation_are_required_then_the_shopper_goes_to_pay(
    patient_client: Client, draft: Consultation
) -> None:
    _reach(patient_client, draft, 4)
    response = patient_client.post(step_url(draft, 4), {"consent_telehealth": "on"})
    assert response.status_code == 400
    assert "confirm that your answers are true" in response.content.decode()
    response = patient_client.post(step_url(draft, 4), {"consent_telehealth": "on", "attest_true": "on"})
    assert response.status_code == 302
    assert response["Location"] == f"/pay/{draft.checkout_session_id}/"
    draft.refresh_from_db()
    assert draft.consent_at and draft.attested_at and draft.intake_completed_at
    assert draft.status == ConsultationStatus.DRAFT
    # Coming back shows a summary with the way to payment, not the first step.
    page = patient_client.get(f"/consultations/{draft.pk}/")
    assert page.status_code == 200
    assert "Continue to payment" in page.content.decode()


def test_changing_an_answer_after_attesting_asks_for_the_attestation_again(
    patient_client: Client, draft: Consultation
) -> None:
    _reach(patient_client, draft, 4)
    patient_client.post(step_url(draft, 4), {"consent_telehealth": "on", "attest_true": "on"})
    patient_client.post(step_url(draft, 1), {**CONDITIONS, "sleep_hours": "4"})
    draft.refresh_from_db()
    assert draft.intake_completed_at is None and draft.attested_at is None
    assert payments.checkout_next_step_url(session=draft.checkout_session) == f"/consultations/{draft.pk}/"


def test_an_unchanged_step_keeps_the_attestation(patient_client: Client, draft: Consultation) -> None:
    _reach(patient_client, draft, 4)
    patient_client.post(step_url(draft, 4), {"consent_telehealth": "on", "attest_true": "on"})
    patient_client.post(step_url(draft, 1), CONDITIONS)
    draft.refresh_from_db()
    assert draft.intake_completed_at is not None


def test_every_step_view_and_save_is_audited_without_health_data(patient_client: Client, draft: Consultation) -> None:
    patient_client.get(step_url(draft, 0))
    _reach(patient_client, draft, 2)
    events = AuditEvent.objects.filter(object_id=str(draft.pk))
    actions = set(events.values_list("action", flat=True))
    assert {"consultation.viewed", "consultation.details_saved", "consultation.answers_saved"} <= actions
    for event in events:
        assert_not_disclosed(str(event.extra), "1988", "insomnia")
