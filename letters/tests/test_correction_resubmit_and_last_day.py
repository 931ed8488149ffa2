"""Asking for a correction twice by accident, and on the letter's last valid day."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from letters.models import Letter, LetterCorrectionRequest
from letters.tests.factories import LetterFactory

pytestmark = pytest.mark.django_db

FIX = {"legal_name": "Sam Q. Shopper", "date_of_birth": "1988-04-12"}


def _messages(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def url(letter: Letter) -> str:
    return reverse("letters:correction", args=[letter.pk])


def test_a_second_click_on_send_for_review_lands_on_the_vault_with_the_same_request(
    client: Client, shopper: User
) -> None:
    letter = LetterFactory(consultation__patient=shopper, patient_legal_name="Sam Q. Shoper")
    client.force_login(shopper)
    client.post(url(letter), FIX)
    second = client.post(url(letter), FIX)
    assert second.status_code == 302 and second["Location"] == reverse("letters:vault")
    notes = _messages(second)
    assert not [text for level, text in notes if level == "error"], notes
    assert LetterCorrectionRequest.objects.filter(letter=letter).count() == 1


def test_on_the_last_valid_day_a_correction_is_neither_offered_nor_accepted(client: Client, shopper: User) -> None:
    # A corrected version keeps the original valid-until date and must be valid after its issue day, so a
    # correction asked on the last day could never be made: the shopper is told to renew instead.
    letter = LetterFactory(
        consultation__patient=shopper, patient_legal_name="Sam Q. Shoper", valid_until=timezone.localdate()
    )
    client.force_login(shopper)
    assert "Name or date of birth wrong?" not in client.get(reverse("letters:vault")).content.decode()
    page = client.get(url(letter)).content.decode()
    assert "renew" in page.lower() and "Send for review" not in page
    response = client.post(url(letter), FIX)
    assert response.status_code == 400
    assert "renew" in response.content.decode().lower()
    assert not LetterCorrectionRequest.objects.exists()
