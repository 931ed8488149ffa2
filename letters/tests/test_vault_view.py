"""/letters/: the shopper's document vault."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from flexlmn.tests.disclosure import assert_not_disclosed
from letters import services
from letters.tests.factories import LetterFactory, expired_letter
from marketplace.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

URL = "/letters/"


def test_the_url_name_is_letters_vault() -> None:
    assert reverse("letters:vault") == URL


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_clinicians_may_not_open_the_vault(client: Client, clinician: User) -> None:
    client.force_login(clinician)
    assert client.get(URL).status_code == 403


def test_the_vault_lists_each_letter_with_its_status_categories_products_and_download(
    client: Client, shopper: User, ops: User
) -> None:
    valid = LetterFactory(consultation__patient=shopper, categories=[CategoryFactory(name="Sleep")])
    expiring = LetterFactory(
        consultation__patient=shopper,
        valid_until=timezone.localdate() + timedelta(days=12),
        categories=[CategoryFactory(name="Fitness")],
    )
    expired = expired_letter(consultation__patient=shopper)
    revoked = LetterFactory(consultation__patient=shopper)
    services.letter_revoke(letter=revoked, actor=ops, reason="Issued in error.")
    client.force_login(shopper)

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Letter of Medical Necessity</h2>") == 4
    assert "Valid</span>" in html
    assert "expires in 12 days" in html
    assert "Expired</span>" in html
    assert "Revoked</span>" in html
    assert "Sleep" in html and "Fitness" in html
    assert "Cooling Sleep Pad" in html
    for letter in (valid, expiring, expired, revoked):
        assert reverse("letters:pdf", args=[letter.pk]) in html
    assert reverse("letters:renew", args=[expiring.pk]) in html
    assert reverse("letters:renew", args=[expired.pk]) in html
    assert reverse("letters:renew", args=[valid.pk]) not in html
    assert reverse("letters:verify_token", args=[valid.verification_token]) in html


def test_a_superseded_letter_says_so(client: Client, shopper: User) -> None:
    old = LetterFactory(consultation__patient=shopper, status="superseded")
    client.force_login(shopper)
    html = client.get(URL).content.decode()
    assert "Superseded by a corrected version" in html
    assert reverse("letters:correction", args=[old.pk]) not in html


def test_other_shoppers_letters_are_not_listed(client: Client, shopper: User, other_shopper: User) -> None:
    theirs = LetterFactory(consultation__patient=other_shopper)
    client.force_login(shopper)
    html = client.get(URL).content.decode()
    assert theirs.reference not in html
    assert "No letters yet" in html


def test_the_vault_is_never_cached_and_its_view_is_audited(client: Client, shopper: User) -> None:
    LetterFactory(consultation__patient=shopper)
    client.force_login(shopper)
    response = client.get(URL)
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(action="letters.listed", actor=shopper).exists()


def test_the_vault_shows_no_diagnosis(client: Client, shopper: User) -> None:
    LetterFactory(consultation__patient=shopper)
    client.force_login(shopper)
    html = client.get(URL).content.decode()
    assert_not_disclosed(html, "insomnia", ignore_case=True)
    assert_not_disclosed(html, "G47")


def test_the_page_query_count_does_not_grow_with_letters(
    client: Client, shopper: User, django_assert_max_num_queries: object
) -> None:
    for _ in range(2):
        LetterFactory(consultation__patient=shopper)
    client.force_login(shopper)
    with django_assert_max_num_queries(18) as few:  # type: ignore[operator]
        client.get(URL)
    for _ in range(8):
        LetterFactory(consultation__patient=shopper)
    with django_assert_max_num_queries(len(few.captured_queries)):  # type: ignore[operator]
        client.get(URL)
