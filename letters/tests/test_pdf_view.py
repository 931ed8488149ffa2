"""/letters/<uuid>/pdf/: the owner downloads the letter through Django, never from a public URL."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from letters.models import Letter
from letters.tests.factories import LetterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(shopper: User) -> Letter:
    return LetterFactory(consultation__patient=shopper)


def url(letter: Letter) -> str:
    return reverse("letters:pdf", args=[letter.pk])


def test_the_url_has_the_letters_uuid(letter: Letter) -> None:
    assert url(letter) == f"/letters/{letter.pk}/pdf/"


def test_the_owner_downloads_the_pdf_as_an_uncached_attachment(client: Client, shopper: User, letter: Letter) -> None:
    client.force_login(shopper)
    response = client.get(url(letter))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{letter.pdf_filename}"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    letter.refresh_from_db()
    assert hashlib.sha256(response.content).hexdigest() == letter.pdf_sha256


def test_a_download_before_the_email_task_ran_stores_the_pdf_once(
    client: Client, shopper: User, letter: Letter
) -> None:
    assert not letter.pdf
    client.force_login(shopper)
    first = client.get(url(letter)).content
    letter.refresh_from_db()
    name = letter.pdf.name
    second = client.get(url(letter)).content
    letter.refresh_from_db()
    assert first == second
    assert letter.pdf.name == name


def test_every_download_is_audited(client: Client, shopper: User, letter: Letter) -> None:
    client.force_login(shopper)
    client.get(url(letter))
    client.get(url(letter))
    events = AuditEvent.objects.filter(action="letter.downloaded", object_id=str(letter.pk), actor=shopper)
    assert events.count() == 2
    assert events.first().extra["version"] == 1  # type: ignore[union-attr]


def test_another_shopper_gets_404(client: Client, other_shopper: User, letter: Letter) -> None:
    client.force_login(other_shopper)
    assert client.get(url(letter)).status_code == 404
    assert not AuditEvent.objects.filter(action="letter.downloaded").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, letter: Letter) -> None:
    response = client.get(url(letter))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_clinicians_and_ops_get_403(client: Client, clinician: User, ops: User, letter: Letter) -> None:
    client.force_login(clinician)
    assert client.get(url(letter)).status_code == 403
    client.force_login(ops)
    assert client.get(url(letter)).status_code == 403


def test_an_unknown_letter_is_404(client: Client, shopper: User) -> None:
    client.force_login(shopper)
    assert client.get("/letters/00000000-0000-0000-0000-000000000000/pdf/").status_code == 404


def test_a_stored_file_that_no_longer_matches_its_hash_is_not_served(
    client: Client, shopper: User, letter: Letter
) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    client.force_login(shopper)
    client.get(url(letter))
    letter.refresh_from_db()
    default_storage.delete(letter.pdf.name)
    default_storage.save(letter.pdf.name, ContentFile(b"%PDF-1.4 altered"))
    assert client.get(url(letter)).status_code == 404


def test_a_stored_file_that_is_gone_answers_404_not_a_server_error(
    client: Client, shopper: User, letter: Letter
) -> None:
    from django.core.files.storage import default_storage

    client.force_login(shopper)
    client.get(url(letter))
    letter.refresh_from_db()
    default_storage.delete(letter.pdf.name)
    assert client.get(url(letter)).status_code == 404
