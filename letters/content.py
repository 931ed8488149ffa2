"""Everything a Letter of Medical Necessity shows, independent of the ORM.

The ``Letter`` model takes snapshots of the patient and the clinician at issue
time and builds a :class:`LetterContent` from them; ``letters.pdf`` renders
exactly this and nothing else. Keeping the content a frozen value means the
same letter always renders the same bytes, and the renderer can be tested and
benchmarked without a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings


class Credential:
    """The clinician credentials a letter may carry, with their spelled-out titles."""

    MD = "MD"
    DO = "DO"
    NP = "NP"
    PA = "PA"

    TITLES: dict[str, str] = {
        MD: "Doctor of Medicine",
        DO: "Doctor of Osteopathic Medicine",
        NP: "Nurse Practitioner",
        PA: "Physician Assistant",
    }


_STATE_RE = re.compile(r"[A-Z]{2}")
_NPI_RE = re.compile(r"\d{10}")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


def _require_text(owner: str, **values: str) -> None:
    for name, value in values.items():
        if not value or not value.strip():
            raise ValueError(f"{owner}.{name} must not be empty")


@dataclass(frozen=True)
class PatientSnapshot:
    """The patient as they were when the letter was issued."""

    legal_name: str
    date_of_birth: date
    # Two-letter US state of residence, e.g. "TX".
    state: str

    def __post_init__(self) -> None:
        _require_text("PatientSnapshot", legal_name=self.legal_name)
        if not _STATE_RE.fullmatch(self.state):
            raise ValueError("PatientSnapshot.state must be a two-letter upper-case state code")


@dataclass(frozen=True)
class ClinicianSnapshot:
    """The reviewing clinician as they were when the letter was issued."""

    name: str
    credential: str
    license_number: str
    license_state: str
    npi: str
    phone: str
    email: str
    # The typed signature, e.g. "Avery Chen, MD"; always present, printed under an image too.
    signature_text: str
    # A PNG or JPEG of the handwritten signature, when the clinician uploaded one.
    signature_image: bytes | None = None

    def __post_init__(self) -> None:
        _require_text(
            "ClinicianSnapshot",
            name=self.name,
            license_number=self.license_number,
            phone=self.phone,
            email=self.email,
            signature_text=self.signature_text,
        )
        if self.credential not in Credential.TITLES:
            raise ValueError(f"ClinicianSnapshot.credential must be one of {', '.join(Credential.TITLES)}")
        if not _STATE_RE.fullmatch(self.license_state):
            raise ValueError("ClinicianSnapshot.license_state must be a two-letter upper-case state code")
        if not _NPI_RE.fullmatch(self.npi):
            raise ValueError("ClinicianSnapshot.npi must be 10 digits")
        if self.signature_image is not None and not self.signature_image.startswith((_PNG_MAGIC, _JPEG_MAGIC)):
            raise ValueError("ClinicianSnapshot.signature_image must be a PNG or JPEG")

    @property
    def title(self) -> str:
        """The spelled-out credential, e.g. "Doctor of Medicine"."""
        return Credential.TITLES[self.credential]

    @property
    def display_name(self) -> str:
        """Name and credential as a letter prints them: "Avery Chen, MD"."""
        return f"{self.name}, {self.credential}"


@dataclass(frozen=True)
class TreatmentItem:
    """One line of the treatment plan."""

    # A product ("Oura Ring 4") or a category ("Sleep therapy devices").
    product_or_category: str
    frequency: str
    duration: str

    def __post_init__(self) -> None:
        _require_text(
            "TreatmentItem",
            product_or_category=self.product_or_category,
            frequency=self.frequency,
            duration=self.duration,
        )


@dataclass(frozen=True)
class CompanyDetails:
    """FlexLMN's own contact details, printed on every letter (a letter without
    the provider's contact information is a red flag to administrators)."""

    name: str
    address: str
    phone: str
    email: str
    website: str

    @classmethod
    def from_settings(cls) -> CompanyDetails:
        return cls(
            name=settings.SITE_NAME,
            address=settings.COMPANY_ADDRESS,
            phone=settings.SUPPORT_PHONE,
            email=settings.SUPPORT_EMAIL,
            website=settings.SITE_URL,
        )


@dataclass(frozen=True)
class LetterContent:
    """One version of one letter, exactly as it is printed."""

    letter_id: str
    version: int
    issued_on: date
    valid_until: date
    patient: PatientSnapshot
    clinician: ClinicianSnapshot
    diagnosis: str
    icd10_code: str
    icd10_description: str
    relevant_history: str
    treatment_plan: list[TreatmentItem]
    covered_categories: list[str]
    justification: str
    verification_token: str
    verification_url: str
    company: CompanyDetails = field(default_factory=CompanyDetails.from_settings)

    def __post_init__(self) -> None:
        _require_text(
            "LetterContent",
            letter_id=self.letter_id,
            diagnosis=self.diagnosis,
            icd10_code=self.icd10_code,
            icd10_description=self.icd10_description,
            justification=self.justification,
            verification_token=self.verification_token,
            verification_url=self.verification_url,
        )
        if self.version < 1:
            raise ValueError("LetterContent.version starts at 1")
        if self.valid_until <= self.issued_on:
            raise ValueError("LetterContent.valid_until must be after issued_on")
        if not self.treatment_plan:
            raise ValueError("LetterContent.treatment_plan must name at least one product or category")
