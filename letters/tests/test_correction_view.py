"""/letters/<uuid>/correction/: the shopper asks for a fix of their name or date of birth."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from flexlmn.tests.disclosure import assert_not_disclosed
from letters.models import CorrectionStatus, Letter, LetterCorrectionRequest
from letters.tests.factories import LetterFactory, expired_letter

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(shopper: User) -> Letter:
    return LetterFactory(consultation__patient=shopper, patient_legal_name="Sam Q. Shoper")


def url(letter: Letter) -> str:
    return reverse("letters:correction", args=[letter.pk])


def test_the_form_starts_from_what_the_letter_says(client: Client, shopper: User, letter: Letter) -> None:
    client.force_login(shopper)
    response = client.get(url(letter))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Sam Q. Shoper"' in html
    assert 'value="1988-04-12"' in html
    assert "no-store" in response["Cache-Control"]


def test_asking_for_a_correction_records_it_for_a_clinician(client: Client, shopper: User, letter: Letter) -> None:
    client.force_login(shopper)
    response = client.post(
        url(letter), {"legal_name": "Sam Q. Shopper", "date_of_birth": "1988-04-12", "note": "Typo in my surname."}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("letters:vault")
    correction = LetterCorrectionRequest.objects.get(letter=letter)
    assert correction.status == CorrectionStatus.PENDING
    assert (correction.legal_name, correction.date_of_birth) == ("Sam Q. Shopper", date(1988, 4, 12))
    assert correction.changes_name and not correction.changes_date_of_birth
    event = AuditEvent.objects.get(action="letter_correction.requested")
    assert_not_disclosed(str(event.extra), "Shopper", "1988")
    vault = client.get(reverse("letters:vault")).content.decode()
    assert "Correction requested" in vault


def test_nothing_changed_is_refused(client: Client, shopper: User, letter: Letter) -> None:
    client.force_login(shopper)
    response = client.post(url(letter), {"legal_name": "Sam Q. Shoper", "date_of_birth": "1988-04-12"})
    assert response.status_code == 400
    assert "both are the same" in response.content.decode()
    assert not LetterCorrectionRequest.objects.exists()


def test_a_date_of_birth_under_eighteen_is_refused(client: Client, shopper: User, letter: Letter) -> None:
    client.force_login(shopper)
    response = client.post(url(letter), {"legal_name": "Sam Q. Shoper", "date_of_birth": "2020-01-01"})
    assert response.status_code == 400
    assert not LetterCorrectionRequest.objects.exists()


def test_a_second_request_waits_for_the_first(client: Client, shopper: User, letter: Letter) -> None:
    client.force_login(shopper)
    client.post(url(letter), {"legal_name": "Sam Q. Shopper", "date_of_birth": "1988-04-12"})
    response = client.post(url(letter), {"legal_name": "Samantha Q. Shopper", "date_of_birth": "1988-04-12"})
    assert response.status_code == 400
    assert "already has a correction waiting" in response.content.decode()
    assert LetterCorrectionRequest.objects.count() == 1


def test_an_expired_letter_cannot_be_corrected(client: Client, shopper: User) -> None:
    letter = expired_letter(consultation__patient=shopper)
    client.force_login(shopper)
    assert "Only a valid letter can be corrected" in client.get(url(letter)).content.decode()
    response = client.post(url(letter), {"legal_name": "Sam Q. Shopper", "date_of_birth": "1988-04-12"})
    assert response.status_code == 400
    assert not LetterCorrectionRequest.objects.exists()


def test_another_shoppers_letter_is_404(client: Client, other_shopper: User, letter: Letter) -> None:
    client.force_login(other_shopper)
    assert client.get(url(letter)).status_code == 404
    assert client.post(url(letter), {"legal_name": "X Y", "date_of_birth": "1980-01-01"}).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, letter: Letter) -> None:
    assert client.get(url(letter)).status_code == 302
