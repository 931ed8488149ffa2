"""Validators for clinician credentials, clinical templates, questionnaires and typed answers."""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File

# --------------------------------------------------------------------------- NPI

# The NPI check digit is the Luhn digit of the 9-digit base prefixed by 80840
# (the US health industry issuer prefix). https://www.cms.gov/Regulations-and-Guidance/Administrative-Simplification/NationalProvIdentStand
NPI_PREFIX = "80840"


def _luhn_is_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def npi_check_digit(base: str) -> int:
    """The check digit that completes a 9-digit NPI base."""
    if not re.fullmatch(r"\d{9}", base):
        raise ValueError("An NPI base is 9 digits.")
    for digit in range(10):
        if _luhn_is_valid(NPI_PREFIX + base + str(digit)):
            return digit
    raise AssertionError("unreachable: one Luhn digit always fits")


def validate_npi(value: str) -> None:
    if not re.fullmatch(r"\d{10}", value or ""):
        raise ValidationError("An NPI is exactly 10 digits.", code="npi_format")
    if not _luhn_is_valid(NPI_PREFIX + value):
        raise ValidationError("This NPI's check digit is wrong: check for a typo.", code="npi_check_digit")


# --------------------------------------------------------------------------- ICD-10

ICD10_RE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def validate_icd10_code(value: str) -> None:
    if not ICD10_RE.fullmatch(value or ""):
        raise ValidationError(
            f"{value!r} is not an ICD-10-CM code: a letter, two characters, then optionally a dot and 1–4 more "
            "(for example M54.50).",
            code="icd10_format",
        )


def validate_icd10_list(value: Any) -> None:
    """A list of ``{"code": ..., "description": ...}`` with well-formed, unique codes."""
    if not isinstance(value, list) or not value:
        raise ValidationError('List at least one ICD-10 code as [{"code": "M54.50", "description": "..."}].')
    errors: list[str] = []
    seen: set[str] = set()
    for position, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"code", "description"}:
            errors.append(f'Entry {position}: write it as {{"code": "...", "description": "..."}}.')
            continue
        code, description = item["code"], item["description"]
        if not isinstance(code, str) or not ICD10_RE.fullmatch(code):
            errors.append(f"Entry {position}: {code!r} is not a well-formed ICD-10-CM code (for example M54.50).")
        elif code in seen:
            errors.append(f"Entry {position}: {code} is listed twice.")
        else:
            seen.add(code)
        if not isinstance(description, str) or not description.strip() or len(description) > 200:
            errors.append(f"Entry {position}: the description must be 1–200 characters.")
    if errors:
        raise ValidationError(errors)


# --------------------------------------------------------------------------- SSN and free text

# Three digits, two, four, optionally separated: what a US Social Security number
# looks like. \b keeps ten-digit phone numbers and longer digit runs out.
SSN_RE = re.compile(r"(?<![\d-])\d{3}[\s.\-]?\d{2}[\s.\-]?\d{4}(?![\d-])")
SSN_MESSAGE = (
    "This looks like a Social Security number. FlexLMN never needs your Social Security number: please remove it."
)


def looks_like_ssn(text: str) -> bool:
    return bool(SSN_RE.search(text or ""))


def validate_no_ssn(value: str) -> None:
    if looks_like_ssn(value):
        raise ValidationError(SSN_MESSAGE, code="ssn")


# --------------------------------------------------------------------------- signature images

SIGNATURE_MAX_BYTES = 512 * 1024
SIGNATURE_MAX_PIXELS = (2000, 1000)
SIGNATURE_FORMATS = {"PNG", "JPEG"}


def validate_signature_image(file: File[Any]) -> None:
    """A PNG or JPEG under 512 KB and 2000×1000 pixels whose content really is that image."""
    from PIL import Image, UnidentifiedImageError

    size = getattr(file, "size", None)
    if size is not None and size > SIGNATURE_MAX_BYTES:
        raise ValidationError("The signature image must be 512 KB or smaller.", code="signature_size")
    position = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        data = file.read(SIGNATURE_MAX_BYTES + 1)
    finally:
        file.seek(position)
    if len(data) > SIGNATURE_MAX_BYTES:
        raise ValidationError("The signature image must be 512 KB or smaller.", code="signature_size")
    try:
        with Image.open(BytesIO(data)) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
        # verify() leaves the image unusable; decoding it fully catches truncated files.
        with Image.open(BytesIO(data)) as image:
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError("The signature must be a PNG or JPEG image.", code="signature_content") from exc
    if image_format not in SIGNATURE_FORMATS:
        raise ValidationError("The signature must be a PNG or JPEG image.", code="signature_format")
    max_width, max_height = SIGNATURE_MAX_PIXELS
    if width > max_width or height > max_height:
        raise ValidationError(
            f"The signature image must be at most {max_width}×{max_height} pixels.", code="signature_dimensions"
        )
