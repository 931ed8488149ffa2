"""Every upload checks its size and its real content, not its name or declared type.

The three uploads: a clinician's signature image (admin), the product CSV
(admin) and a letter PDF on the public verification page.
"""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from consultations.models import ClinicianProfile
from consultations.validators import SIGNATURE_MAX_BYTES
from letters import services as letters
from letters.tests.factories import LetterFactory
from marketplace.csv_io import MAX_CSV_BYTES
from marketplace.models import Product
from marketplace.tests.factories import CategoryFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def _image(fmt: str, size: tuple[int, int] = (300, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, format=fmt)
    return buffer.getvalue()


def _noisy_png(min_bytes: int) -> bytes:
    """A real PNG bigger than ``min_bytes``: random pixels do not compress."""
    width, height = 600, 400
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(buffer, format="PNG")
    data = buffer.getvalue()
    assert len(data) > min_bytes
    return data


@pytest.fixture
def ops_client(client: Client, ops: User) -> Client:
    client.force_login(ops)
    return client


def _profile_form(user: User, upload: SimpleUploadedFile) -> dict[str, Any]:
    return {
        "user": user.pk,
        "legal_name": "Nia Nomfa",
        "credential": "MD",
        "npi": "1234567893",
        "active": "on",
        "phone": "555-0100",
        "contact_email": "nia@example.test",
        "signature_image": upload,
        "typed_signature": "",
        "licenses-TOTAL_FORMS": "0",
        "licenses-INITIAL_FORMS": "0",
        "licenses-MIN_NUM_FORMS": "0",
        "licenses-MAX_NUM_FORMS": "1000",
    }


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("signature.png", b"this is not an image at all", "must be a PNG or JPEG image"),
        ("signature.png", _image("GIF"), "must be a PNG or JPEG image"),  # a real image, the wrong kind
        ("signature.jpg", _image("PNG")[:200], "must be a PNG or JPEG image"),  # truncated
        ("signature.png", _image("PNG", (3000, 200)), "at most 2000×1000 pixels"),
        ("signature.png", _noisy_png(SIGNATURE_MAX_BYTES), "512 KB or smaller"),
    ],
    ids=["text-named-png", "gif", "truncated", "too-wide", "too-big"],
)
def test_a_signature_upload_that_is_not_a_small_png_or_jpeg_is_refused(
    ops_client: Client, name: str, content: bytes, error: str
) -> None:
    user = UserFactory(role=Role.CLINICIAN)
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = ops_client.post(reverse("admin:consultations_clinicianprofile_add"), _profile_form(user, upload))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ClinicianProfile.objects.filter(user=user).exists()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_real_small_png_or_jpeg_signature_is_accepted(ops_client: Client, fmt: str) -> None:
    user = UserFactory(role=Role.CLINICIAN)
    upload = SimpleUploadedFile(f"signature.{fmt.lower()}", _image(fmt), content_type="application/octet-stream")
    response = ops_client.post(reverse("admin:consultations_clinicianprofile_add"), _profile_form(user, upload))
    assert response.status_code == 302
    assert ClinicianProfile.objects.get(user=user).signature_image


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"name,price\n" + b"x" * MAX_CSV_BYTES, "larger than 2 MB"),
        (_image("PNG"), "not UTF-8 text"),
        ("name,price,category,eligibility\nPillow,10,sleep,lmn\n".encode("utf-16"), "not UTF-8 text"),
    ],
    ids=["too-big", "an-image", "utf-16"],
)
def test_a_csv_upload_that_is_too_big_or_not_utf8_text_is_refused(
    ops_client: Client, content: bytes, error: str
) -> None:
    merchant = MerchantFactory()
    upload = SimpleUploadedFile("products.csv", content, content_type="text/csv")
    response = ops_client.post(
        reverse("admin:marketplace_product_import_csv"), {"merchant": str(merchant.pk), "file": upload}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Product.objects.exists()


def test_a_real_csv_is_previewed_whatever_its_declared_type(ops_client: Client) -> None:
    merchant = MerchantFactory()
    CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    content = b"name,price,category,eligibility\nCooling Pillow,129.00,sleep-home-wellness,lmn_required\n"
    upload = SimpleUploadedFile("products.txt", content, content_type="application/octet-stream")
    response = ops_client.post(
        reverse("admin:marketplace_product_import_csv"), {"merchant": str(merchant.pk), "file": upload}
    )
    assert response.status_code == 200
    assert response.context["preview"].is_valid
    assert not Product.objects.exists()  # a preview writes nothing


def test_the_verification_upload_checks_the_content_not_the_name(client: Client) -> None:
    png_named_pdf = SimpleUploadedFile("letter.pdf", _image("PNG"), content_type="application/pdf")
    response = client.post(reverse("letters:verify"), {"pdf": png_named_pdf})
    assert response.status_code == 400
    assert "not a PDF" in response.content.decode()


def test_the_verification_upload_refuses_a_file_over_the_limit(client: Client, settings: Any) -> None:
    settings.LETTERS_VERIFY_UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("letter.pdf", b"%PDF-1.7\n" + b"0" * 4096, content_type="application/pdf")
    response = client.post(reverse("letters:verify"), {"pdf": big})
    assert response.status_code in (400, 413)
    assert "larger than" in response.content.decode()


def test_the_genuine_letter_pdf_is_recognised_whatever_its_name(client: Client) -> None:
    letter = LetterFactory()
    data = letters.letter_pdf_bytes(letter=letter)
    upload = SimpleUploadedFile("scan (1).bin", data, content_type="application/octet-stream")
    response = client.post(reverse("letters:verify"), {"pdf": upload})
    assert response.status_code == 200
    assert "Genuine FlexLMN letter" in response.content.decode()
