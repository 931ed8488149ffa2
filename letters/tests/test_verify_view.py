"""/verify/: enter a verification code, or upload a PDF and compare its SHA-256 with the letters issued."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from letters import tasks
from letters.models import Letter, LetterDelivery
from letters.tests.factories import LetterFactory

pytestmark = pytest.mark.django_db

URL = "/verify/"


@pytest.fixture
def delivered(shopper: User, mailoutbox: list[Any]) -> tuple[Letter, bytes]:
    letter = LetterFactory(consultation__patient=shopper)
    tasks.letter_deliver(str(LetterDelivery.objects.create(letter=letter, recipient=shopper.email).pk))
    letter.refresh_from_db()
    return letter, mailoutbox[0].attachments[0][1]


def upload(client: Client, data: bytes, name: str = "letter.pdf", **extra: Any) -> Any:
    return client.post(
        URL, {"action": "upload", "pdf": SimpleUploadedFile(name, data, content_type="application/pdf")}, **extra
    )


def test_the_page_needs_no_login_and_offers_both_checks(client: Client) -> None:
    assert reverse("letters:verify") == URL
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="token"' in html
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html


def test_a_code_goes_to_its_verification_page(client: Client, shopper: User) -> None:
    letter = LetterFactory(consultation__patient=shopper)
    response = client.post(URL, {"action": "token", "token": f"  {letter.verification_token} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("letters:verify_token", args=[letter.verification_token])


def test_a_pasted_verification_link_works_too(client: Client, shopper: User) -> None:
    letter = LetterFactory(consultation__patient=shopper)
    pasted = f"https://flexlmn.test/verify/{letter.verification_token}/"
    response = client.post(URL, {"action": "token", "token": pasted})
    assert response["Location"] == reverse("letters:verify_token", args=[letter.verification_token])


def test_something_that_is_no_code_is_refused_on_the_page(client: Client) -> None:
    response = client.post(URL, {"action": "token", "token": "hello?"})
    assert response.status_code == 400
    assert "does not look like a FlexLMN verification code" in response.content.decode()


def test_uploading_the_genuine_pdf_confirms_the_letter(client: Client, delivered: tuple[Letter, bytes]) -> None:
    letter, pdf = delivered
    response = upload(client, pdf)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Genuine FlexLMN letter" in html
    assert "matches this letter exactly" in html
    assert letter.pdf_sha256 in html
    assert "insomnia" not in html.lower()
    event = AuditEvent.objects.get(action="letter.verification_uploaded")
    assert event.object_id == str(letter.pk) and event.extra == {"matched": True}


def test_an_altered_pdf_does_not_match(client: Client, delivered: tuple[Letter, bytes]) -> None:
    _, pdf = delivered
    # One byte more: a re-saved or edited copy is no longer the file FlexLMN issued.
    altered = pdf + b"\n"
    response = upload(client, altered)
    assert response.status_code == 200
    html = response.content.decode()
    assert "does not match any letter FlexLMN issued" in html
    assert "Genuine FlexLMN letter" not in html
    assert AuditEvent.objects.get(action="letter.verification_uploaded").extra == {"matched": False}


def test_a_file_that_is_not_a_pdf_is_refused(client: Client) -> None:
    response = upload(client, b"GIF89a not a letter", name="letter.gif")
    assert response.status_code == 400
    assert "That file is not a PDF." in response.content.decode()


def test_a_file_over_the_size_limit_is_refused(client: Client, settings: Any) -> None:
    settings.LETTERS_VERIFY_UPLOAD_MAX_BYTES = 1024
    response = upload(client, b"%PDF-1.7\n" + b"0" * 4096)
    assert response.status_code == 400
    assert "larger than" in response.content.decode()


def test_a_huge_request_is_refused_before_the_file_is_read(client: Client, settings: Any) -> None:
    settings.LETTERS_VERIFY_UPLOAD_MAX_BYTES = 1024
    response = upload(client, b"%PDF-1.7\n" + b"0" * (200 * 1024))
    assert response.status_code == 413
    assert "larger than" in response.content.decode()


@pytest.mark.usefixtures("frozen_clock")
def test_uploads_count_against_the_rate_limit(client: Client, settings: Any) -> None:
    settings.LETTERS_VERIFY_RATE_LIMIT = 2
    upload(client, b"%PDF-1.7 one")
    upload(client, b"%PDF-1.7 two")
    assert upload(client, b"%PDF-1.7 three").status_code == 429


def test_a_huge_upload_is_refused_before_anything_reads_its_body(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.http.multipartparser import MultiPartParser

    def read_body(self: Any) -> Any:
        raise AssertionError("the oversized upload was read")

    monkeypatch.setattr(MultiPartParser, "parse", read_body)
    settings.LETTERS_VERIFY_UPLOAD_MAX_BYTES = 1024
    # With CSRF enforced, as in production, where the CSRF middleware reads the form before the view.
    response = upload(Client(enforce_csrf_checks=True), b"%PDF-1.7\n" + b"0" * (200 * 1024))
    assert response.status_code == 413
    assert "larger than" in response.content.decode()


def test_both_verify_forms_still_need_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post(URL, {"action": "token", "token": "A" * 43}).status_code == 403
    assert upload(client, b"%PDF-1.7 small").status_code == 403
    page = client.get(URL)
    token = page.cookies["csrftoken"].value
    response = client.post(URL, {"action": "token", "token": "A" * 43, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
