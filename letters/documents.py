"""From a ``Letter`` row to its PDF: the printed content, the rendered bytes, and the stored file.

The content is built only from the letter's own snapshots (never from the
live clinician profile or consultation), so rendering a letter again gives
the same bytes and the same SHA-256.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from .content import ClinicianSnapshot, LetterContent, PatientSnapshot, TreatmentItem
from .models import Letter
from .pdf import LetterRenderer

# Stream uploads and stored files through the hash in chunks this big.
HASH_CHUNK = 64 * 1024


def verification_url(letter: Letter) -> str:
    return settings.SITE_URL + reverse("letters:verify_token", args=[letter.verification_token])


def letter_content(letter: Letter) -> LetterContent:
    """Everything the PDF prints, from the letter's snapshots."""
    signature = letter.clinician_signature_image
    return LetterContent(
        letter_id=letter.reference,
        version=letter.version,
        issued_on=letter.issued_on,
        valid_until=letter.valid_until,
        patient=PatientSnapshot(
            legal_name=letter.patient_legal_name,
            date_of_birth=letter.patient_date_of_birth,
            state=letter.patient_state,
        ),
        clinician=ClinicianSnapshot(
            name=letter.clinician_name,
            credential=letter.clinician_credential,
            license_number=letter.clinician_license_number,
            license_state=letter.clinician_license_state,
            npi=letter.clinician_npi,
            phone=letter.clinician_phone,
            email=letter.clinician_email,
            signature_text=letter.clinician_signature_text,
            signature_image=bytes(signature) if signature else None,
        ),
        diagnosis=letter.diagnosis,
        icd10_code=letter.icd10_code,
        icd10_description=letter.icd10_description,
        relevant_history=letter.relevant_history,
        treatment_plan=[
            TreatmentItem(
                product_or_category=str(item["product_or_category"]),
                frequency=str(item["frequency"]),
                duration=str(item["duration"]),
            )
            for item in letter.treatment_plan
        ],
        covered_categories=[category.name for category in letter.covered_categories.order_by("ordering", "name")],
        justification=letter.justification,
        verification_token=letter.verification_token,
        verification_url=verification_url(letter),
    )


def letter_render(letter: Letter) -> bytes:
    """The letter's PDF bytes (deterministic: the same letter renders the same bytes)."""
    return LetterRenderer().generate(letter_content(letter))[2]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def letter_store_pdf(letter: Letter, data: bytes) -> None:
    """Save ``data`` as the letter's PDF in the default storage and record its hash (caller saves the row).

    ``storage.save`` returns the name the backend really used (it may add a
    suffix, S3 may normalise it): that name is what the row keeps. The file is
    private: MEDIA_ROOT is never served, and downloads go through a view.
    """
    name = default_storage.save(f"letters/{letter.id}/{letter.pdf_filename}", ContentFile(data))
    letter.pdf.name = name
    letter.pdf_sha256 = sha256_hex(data)


def letter_read_pdf(letter: Letter) -> bytes:
    """The stored PDF's bytes (through the storage API, so S3 works as well as a local disk)."""
    with default_storage.open(letter.pdf.name, "rb") as handle:
        return bytes(handle.read())
