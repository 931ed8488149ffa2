"""/verify/<token>/: genuine or not, and valid, expired, revoked or superseded — never the health data."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from consultations.tests.factories import GOOD_ANSWERS
from letters import services, tasks
from letters.models import Letter, LetterDelivery
from letters.tests.factories import DIAGNOSIS, HISTORY, JUSTIFICATION, LetterFactory, expired_letter

pytestmark = pytest.mark.django_db


def url(letter: Letter) -> str:
    return reverse("letters:verify_token", args=[letter.verification_token])


def assert_no_health_data(html: str, letter: Letter) -> None:
    lowered = html.lower()
    for secret in (DIAGNOSIS, HISTORY, JUSTIFICATION, letter.diagnosis, letter.icd10_code, letter.icd10_description):
        assert secret.lower() not in lowered
    assert "insomnia" not in lowered
    born = letter.patient_date_of_birth
    for shown in (born.isoformat(), born.strftime("%B %-d, %Y"), born.strftime("%m/%d/%Y"), born.strftime("%b. %-d")):
        assert shown not in html
    # The year alone could turn up inside a hash or a token by chance: look outside them.
    outside = re.sub(r"[A-Za-z0-9_-]{40,}", "", html)
    assert str(born.year) not in outside
    assert letter.patient_legal_name not in html
    for answer in GOOD_ANSWERS.values():
        if isinstance(answer, str) and len(answer) > 3:
            assert answer not in html


def test_the_url_carries_the_token_and_needs_no_login(client: Client, shopper: User) -> None:
    letter = LetterFactory(consultation__patient=shopper)
    assert url(letter) == f"/verify/{letter.verification_token}/"
    assert client.get(url(letter)).status_code == 200


def test_a_valid_letter_shows_the_minimum_and_no_health_data(
    client: Client, issue_letter: Callable[[User], Letter], shopper: User
) -> None:
    letter = issue_letter(shopper)
    assert letter.pdf_sha256

    response = client.get(url(letter))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Genuine FlexLMN letter" in html
    assert ">Valid<" in html
    assert letter.issued_at.strftime("%B") in html
    assert letter.valid_until.strftime("%B %-d, %Y") in html
    assert "Sleep &amp; home wellness" in html
    assert "Casey Clinic, MD" in html
    assert f"TX license {letter.clinician_license_number}" in html
    assert letter.pdf_sha256 in html
    assert_no_health_data(html, letter)
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"


def test_an_expired_letter_is_genuine_but_expired(client: Client, shopper: User) -> None:
    letter = expired_letter(consultation__patient=shopper)
    html = client.get(url(letter)).content.decode()
    assert ">Expired<" in html
    assert "expired on" in html
    assert_no_health_data(html, letter)


def test_a_revoked_letter_says_it_must_not_be_relied_on(client: Client, shopper: User, ops: User) -> None:
    letter = LetterFactory(consultation__patient=shopper)
    services.letter_revoke(letter=letter, actor=ops, reason="The intake was not the patient's own.")
    html = client.get(url(letter)).content.decode()
    assert ">Revoked<" in html
    assert "must not be relied on" in html
    assert "not the patient's own" not in html
    assert_no_health_data(html, letter)


def test_a_superseded_letter_links_to_the_newer_version(client: Client, shopper: User) -> None:
    old = LetterFactory(consultation__patient=shopper, status="superseded")
    new = LetterFactory(consultation=old.consultation, version=2, supersedes=old)
    html = client.get(url(old)).content.decode()
    assert "Superseded by a newer version" in html
    assert reverse("letters:verify_token", args=[new.verification_token]) in html
    assert_no_health_data(html, old)


def test_a_letter_superseded_twice_links_to_the_current_version(client: Client, shopper: User) -> None:
    first = LetterFactory(consultation__patient=shopper, status="superseded")
    second = LetterFactory(consultation=first.consultation, version=2, supersedes=first, status="superseded")
    third = LetterFactory(consultation=first.consultation, version=3, supersedes=second)
    html = client.get(url(first)).content.decode()
    assert reverse("letters:verify_token", args=[third.verification_token]) in html


def test_an_unknown_token_answers_404_saying_the_letter_is_not_verified(client: Client) -> None:
    response = client.get("/verify/q8ZtN3vJx0LmR5cW2yHkP7aD4sFgB1eUoTi9VnQwXr6/")
    assert response.status_code == 404
    assert "No FlexLMN letter has this code" in response.content.decode()


def test_the_shown_hash_is_the_hash_of_the_emailed_pdf(client: Client, shopper: User, mailoutbox: list[Any]) -> None:
    import hashlib

    letter = LetterFactory(consultation__patient=shopper)
    delivery = LetterDelivery.objects.create(letter=letter, recipient=shopper.email)
    tasks.letter_deliver(str(delivery.pk))
    [attachment] = mailoutbox[0].attachments
    html = client.get(url(letter)).content.decode()
    assert hashlib.sha256(attachment[1]).hexdigest() in html


def test_views_are_audited_without_an_actor(client: Client, shopper: User) -> None:
    letter = LetterFactory(consultation__patient=shopper)
    client.get(url(letter))
    event = AuditEvent.objects.get(action="letter.verification_viewed", object_id=str(letter.pk))
    assert event.actor is None


@pytest.mark.usefixtures("frozen_clock")
def test_verification_is_rate_limited_per_ip_with_a_clear_429_page(
    client: Client, shopper: User, settings: Any
) -> None:
    settings.LETTERS_VERIFY_RATE_LIMIT = 3
    letter = LetterFactory(consultation__patient=shopper)
    for _ in range(3):
        assert client.get(url(letter), REMOTE_ADDR="203.0.113.7").status_code == 200
    limited = client.get(url(letter), REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert "Too many checks" in limited.content.decode()
    # Unknown tokens count too, so guessing is limited as well.
    assert client.get("/verify/not-a-real-token-at-all-000000/", REMOTE_ADDR="203.0.113.7").status_code == 429
    # Another address is not affected.
    assert client.get(url(letter), REMOTE_ADDR="198.51.100.20").status_code == 200
