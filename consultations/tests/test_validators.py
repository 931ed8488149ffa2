from __future__ import annotations

from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from consultations.templating import render_template_text, validate_template_text
from consultations.validators import (
    looks_like_ssn,
    npi_check_digit,
    validate_icd10_code,
    validate_icd10_list,
    validate_npi,
    validate_signature_image,
)


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_real_format_npis_with_the_right_check_digit_pass(npi: str) -> None:
    validate_npi(npi)


@pytest.mark.parametrize(
    ("npi", "code"), [("1234567890", "npi_check_digit"), ("123456789", "npi_format"), ("12345678AB", "npi_format")]
)
def test_wrong_npis_are_refused(npi: str, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_npi(npi)
    assert excinfo.value.code == code


def test_check_digit_completes_a_base() -> None:
    assert npi_check_digit("123456789") == 3


@pytest.mark.parametrize("code", ["M54.50", "E11.9", "I10", "F32.A", "Z85.820", "G47.00", "L80"])
def test_icd10_codes_in_the_right_format_pass(code: str) -> None:
    validate_icd10_code(code)


@pytest.mark.parametrize("code", ["U07.1", "m54.5", "M5", "M54.", "M54.12345", "54.50", "M54-50"])
def test_icd10_codes_in_the_wrong_format_are_refused(code: str) -> None:
    with pytest.raises(ValidationError):
        validate_icd10_code(code)


def test_icd10_lists_report_each_problem() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_icd10_list(
            [
                {"code": "M54.50", "description": "Low back pain"},
                {"code": "M54.50", "description": "x"},
                {"code": "bad"},
            ]
        )
    messages = " ".join(excinfo.value.messages)
    assert "listed twice" in messages and "Entry 3" in messages


@pytest.mark.parametrize(
    "text",
    ["My SSN is 123-45-6789", "123 45 6789", "ssn:123456789", "number 123.45.6789 ok"],
)
def test_text_that_looks_like_an_ssn_is_caught(text: str) -> None:
    assert looks_like_ssn(text)


@pytest.mark.parametrize(
    "text",
    ["Call me at 555-123-4567", "5551234567", "I take 200 mg twice a day", "Since 2019-03-01", "card 4242424242424242"],
)
def test_ordinary_numbers_are_not_mistaken_for_an_ssn(text: str) -> None:
    assert not looks_like_ssn(text)


def _image(fmt: str, size: tuple[int, int] = (400, 120)) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", size, "white").save(buffer, format=fmt)
    return SimpleUploadedFile(f"sig.{fmt.lower()}", buffer.getvalue())


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_png_and_jpeg_signatures_pass(fmt: str) -> None:
    validate_signature_image(_image(fmt))


def test_other_images_and_fake_images_are_refused() -> None:
    with pytest.raises(ValidationError, match="PNG or JPEG"):
        validate_signature_image(_image("GIF"))
    with pytest.raises(ValidationError, match="PNG or JPEG"):
        validate_signature_image(SimpleUploadedFile("sig.png", b"\x89PNG\r\n\x1a\n" + b"not really an image"))
    with pytest.raises(ValidationError, match="2000×1000"):
        validate_signature_image(_image("PNG", (3000, 200)))


def test_oversized_signatures_are_refused() -> None:
    with pytest.raises(ValidationError, match="512 KB"):
        validate_signature_image(SimpleUploadedFile("sig.png", b"0" * (512 * 1024 + 1)))


def test_template_placeholders_are_checked_and_filled() -> None:
    validate_template_text("{products} for {answer:conditions} ({age}, {sex}, {state}, {categories})")
    with pytest.raises(ValidationError, match="Unknown placeholder"):
        validate_template_text("{patient_name}")
    with pytest.raises(ValidationError, match="not closed"):
        validate_template_text("{products")
    text = render_template_text(
        "{products} helps {answer:conditions}; sleeps {answer:hours}.",
        values={"products": "A pad"},
        answers={"conditions": "Insomnia"},
    )
    assert text == "A pad helps Insomnia; sleeps not stated."
