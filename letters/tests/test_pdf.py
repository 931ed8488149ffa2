"""The Letter of Medical Necessity PDF: every part is in the extracted text,
renders are byte-identical, text is escaped, long letters paginate."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import subprocess
import sys
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from PIL import Image
from pypdf import PdfReader
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.barcode.qrencoder import QRUtil

from letters.content import (
    ClinicianSnapshot,
    CompanyDetails,
    LetterContent,
    PatientSnapshot,
    TreatmentItem,
)
from letters.pdf import (
    LetterRenderer,
    escape,
    format_date,
    pdf_sha256,
    render_letter,
)
from letters.qr import QrCode, qr_penalty

TOKEN = "Zq3xK9vN2mL7pR4sT8wY1bC6dF0gH5jA-kE_uQ2iO9c"


def make_content(**changes: Any) -> LetterContent:
    """A complete letter for made-up people; keyword arguments replace fields."""
    content = LetterContent(
        letter_id="7d1e4b2a-9c3f-4e8d-a6b5-0f2c1d3e4a5b",
        version=1,
        issued_on=date(2026, 3, 2),
        valid_until=date(2027, 3, 2),
        patient=PatientSnapshot(legal_name="Jordan Rivera", date_of_birth=date(1988, 6, 14), state="CO"),
        clinician=ClinicianSnapshot(
            name="Avery Chen",
            credential="MD",
            license_number="DR.0061234",
            license_state="CO",
            npi="1588667638",
            phone="+1 (555) 010-0199",
            email="avery.chen@clinicians.flexlmn.example",
            signature_text="Avery Chen, MD",
        ),
        diagnosis="Chronic insomnia with frequent night-time awakenings",
        icd10_code="G47.00",
        icd10_description="Insomnia, unspecified",
        relevant_history="Difficulty staying asleep for two years; melatonin for eight weeks did not help.",
        treatment_plan=[
            TreatmentItem(product_or_category="SleepMe Dock Pro", frequency="Nightly", duration="12 months"),
            TreatmentItem(product_or_category="Sleep wearables", frequency="Worn daily", duration="6 months"),
        ],
        covered_categories=["Sleep", "Wearables"],
        justification="Nocturnal overheating drives the awakenings; active bed cooling addresses it directly.",
        verification_token=TOKEN,
        verification_url=f"https://flexlmn.test/verify/{TOKEN}/",
        company=CompanyDetails(
            name="FlexLMN",
            address="FlexLMN, 100 Example Street, Suite 200, Austin, TX 78701",
            phone="+1 (555) 010-0142",
            email="support@flexlmn.example",
            website="https://flexlmn.test",
        ),
    )
    return dataclasses.replace(content, **changes)


def with_clinician(content: LetterContent, **changes: Any) -> LetterContent:
    return dataclasses.replace(content, clinician=dataclasses.replace(content.clinician, **changes))


def page_texts(data: bytes) -> list[str]:
    """Each page's extracted text with runs of whitespace (line wraps) collapsed to one space."""
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(BytesIO(data)).pages]


def full_text(data: bytes) -> str:
    return " ".join(page_texts(data))


def image_xobjects(data: bytes) -> list[str]:
    names = []
    for page in PdfReader(BytesIO(data)).pages:
        xobjects = page["/Resources"].get("/XObject")
        if xobjects is None:
            continue
        for name, ref in xobjects.get_object().items():
            if ref.get_object()["/Subtype"] == "/Image":
                names.append(name)
    return names


def png_signature() -> bytes:
    image = Image.new("RGB", (300, 90), "white")
    for x in range(20, 280):
        image.putpixel((x, 45 + (x % 17) - 8), (20, 40, 90))
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg_signature() -> bytes:
    out = BytesIO()
    Image.new("RGB", (300, 90), (240, 240, 250)).save(out, format="JPEG")
    return out.getvalue()


# -- every part of the letter --------------------------------------------------


def test_generate_returns_a_pdf_with_a_filename_from_the_letter_id() -> None:
    filename, mime_type, data = LetterRenderer().generate(make_content())

    assert filename == "flexlmn-letter-7d1e4b2a-9c3f-4e8d-a6b5-0f2c1d3e4a5b-v1.pdf"
    assert mime_type == "application/pdf"
    assert data.startswith(b"%PDF-")


def test_extracted_text_contains_every_part_the_letter_must_show() -> None:
    text = full_text(render_letter(make_content()))

    expected = [
        # Letterhead: FlexLMN's own contact details.
        "FlexLMN",
        "100 Example Street, Suite 200, Austin, TX 78701",
        "+1 (555) 010-0142",
        "support@flexlmn.example",
        "flexlmn.test",
        # Addressee and patient.
        "To whom it may concern / HSA/FSA plan administrator",
        "Jordan Rivera",
        "Date of birth: June 14, 1988",
        "State of residence: CO",
        # Diagnosis and history.
        "Chronic insomnia with frequent night-time awakenings",
        "G47.00",
        "Insomnia, unspecified",
        "Difficulty staying asleep for two years; melatonin for eight weeks did not help.",
        # Treatment plan.
        "SleepMe Dock Pro",
        "Nightly",
        "12 months",
        "Sleep wearables",
        "Worn daily",
        "6 months",
        "Covered categories: Sleep, Wearables",
        # Justification.
        "Nocturnal overheating drives the awakenings; active bed cooling addresses it directly.",
        # Clinician and signature.
        "Avery Chen, MD",
        "Doctor of Medicine",
        "License no.: DR.0061234",
        "License state: CO",
        "NPI: 1588667638",
        "Phone: +1 (555) 010-0199",
        "Email: avery.chen@clinicians.flexlmn.example",
        "Electronically signed by Avery Chen, MD on March 2, 2026",
        # Dates, validity, verification.
        "DATE OF LETTER",
        "VALID UNTIL",
        "Issued March 2, 2026, valid until March 2, 2027",
        "valid for 12 months",
        TOKEN,
        f"https://flexlmn.test/verify/{TOKEN}/",
        "Page 1 of 2",
        "Page 2 of 2",
    ]
    missing = [part for part in expected if part not in text]
    assert missing == []


def test_each_treatment_item_is_a_row_with_its_frequency_and_duration() -> None:
    text = full_text(render_letter(make_content()))

    assert "SleepMe Dock Pro Nightly 12 months" in text
    assert "Sleep wearables Worn daily 6 months" in text


def test_clinician_credential_is_spelled_out_for_each_kind() -> None:
    for credential, title in [
        ("DO", "Doctor of Osteopathic Medicine"),
        ("NP", "Nurse Practitioner"),
        ("PA", "Physician Assistant"),
    ]:
        content = with_clinician(make_content(), credential=credential, signature_text=f"Avery Chen, {credential}")
        text = full_text(render_letter(content))
        assert f"Avery Chen, {credential}" in text
        assert title in text


def test_typed_signature_is_printed_without_an_image() -> None:
    data = render_letter(with_clinician(make_content(), signature_text="A. Chen"))

    assert "A. Chen" in full_text(data)
    assert image_xobjects(data) == []


def test_typed_signature_outside_the_handwriting_face_falls_back_to_italics() -> None:
    renderer = LetterRenderer()
    renderer.content = make_content()
    renderer._init()

    assert renderer._typed_signature("Avery Chen, MD").style.fontName == renderer.font_signature
    assert renderer._typed_signature("Łucja Nowak, MD").style.fontName == renderer.font_italic
    content = with_clinician(make_content(), name="Łucja Nowak", signature_text="Łucja Nowak, MD")
    assert "Łucja Nowak, MD" in full_text(render_letter(content))


def test_verification_qr_code_encodes_the_verification_url() -> None:
    content = make_content()
    renderer = LetterRenderer()
    renderer.content = content
    renderer._init()

    qr_codes = [
        flowable for flowable in _walk(renderer._verification_block(_FakeDoc())) if isinstance(flowable, QrCode)
    ]

    assert [qr.value for qr in qr_codes] == [content.verification_url]


def test_qr_matrix_is_the_one_reportlabs_widget_makes() -> None:
    urls = [f"https://flexlmn.test/verify/{hashlib.sha256(str(n).encode()).hexdigest()[: 10 + n]}/" for n in range(12)]
    for url in urls:
        widget = QrCodeWidget(url, barLevel="M")
        widget.qr.make()

        assert QrCode(url, size=80).modules() == [list(map(bool, row)) for row in widget.qr.modules], url


def testqr_penalty_scores_every_mask_as_reportlab_does() -> None:
    # URLs of many lengths, so several QR versions, row lengths and patterns are covered.
    for n in range(30):
        token = hashlib.sha256(str(n).encode()).hexdigest()
        url = f"https://flexlmn.test/verify/{token[: 1 + n * 2]}/" * (1 + n % 3)
        qr = QrCodeWidget(url, barLevel="M").qr
        qr.version = qr.calculate_version()
        for mask in range(8):
            qr.makeImpl(True, mask)
            assert qr_penalty(qr.modules) == QRUtil.getLostPoint(qr), (url, mask)


# -- determinism ---------------------------------------------------------------


def test_identical_letters_render_byte_identical_pdfs() -> None:
    first = render_letter(make_content())
    second = LetterRenderer().generate(make_content())[2]

    assert first == second
    assert pdf_sha256(first) == pdf_sha256(second)


def test_identical_letters_with_a_signature_image_render_byte_identical_pdfs() -> None:
    content = with_clinician(make_content(), signature_image=png_signature())

    assert render_letter(content) == render_letter(content)


def test_render_is_byte_identical_in_another_process_with_another_hash_seed() -> None:
    here = pdf_sha256(render_letter(make_content()))
    script = (
        "import django; django.setup(); "
        "from letters.tests.test_pdf import make_content; "
        "from letters.pdf import pdf_sha256, render_letter; "
        "print(pdf_sha256(render_letter(make_content())))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "flexlmn.settings.test", "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert result.stdout.strip() == here


def test_a_changed_letter_renders_different_bytes() -> None:
    original = render_letter(make_content())
    corrected = render_letter(
        make_content(version=2, patient=PatientSnapshot("Jordan Riviera", date(1988, 6, 14), "CO"))
    )

    assert original != corrected


def test_pdf_creation_date_is_the_issue_date_not_the_render_time() -> None:
    reader = PdfReader(BytesIO(render_letter(make_content(issued_on=date(2026, 5, 17), valid_until=date(2027, 5, 17)))))

    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"] == "D:20260517000000+00'00'"
    assert reader.metadata["/Title"] == "Letter of Medical Necessity"


def test_pdf_sha256_is_the_hex_sha256_of_the_bytes() -> None:
    data = render_letter(make_content())

    assert pdf_sha256(data) == hashlib.sha256(data).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", pdf_sha256(data))


# -- escaping ------------------------------------------------------------------


def test_markup_characters_in_every_free_text_field_render_literally() -> None:
    content = make_content(
        patient=PatientSnapshot(legal_name="Pat O'Brien <Jr> & Co", date_of_birth=date(1990, 1, 2), state="CO"),
        diagnosis="Pain <b>not bold</b> & stiffness",
        icd10_description='Low back pain "lumbago" <i>',
        relevant_history="Tried A & B; score < 3 and > 1",
        treatment_plan=[TreatmentItem("Brace <XL> & strap", "2 x day <am/pm>", "3 months & review")],
        covered_categories=["Posture & <support>"],
        justification='<para>Injected</para> &amp; literally "&amp;"',
    )
    content = with_clinician(content, name="Sam <Lee> & Co", signature_text="Sam <Lee> & Co, NP", credential="NP")

    text = full_text(render_letter(content))

    for literal in [
        "Pat O'Brien <Jr> & Co",
        "Pain <b>not bold</b> & stiffness",
        'Low back pain "lumbago" <i>',
        "Tried A & B; score < 3 and > 1",
        "Brace <XL> & strap",
        "2 x day <am/pm>",
        "3 months & review",
        "Posture & <support>",
        '<para>Injected</para> &amp; literally "&amp;"',
        "Sam <Lee> & Co, NP",
    ]:
        assert literal in text, literal


def test_escape_neutralizes_markup_and_keeps_line_breaks() -> None:
    assert escape("O'Brien <Jr> & Co") == "O'Brien &lt;Jr&gt; &amp; Co"
    assert escape("line one\r\nline two") == "line one<br/>line two"
    assert escape("bell\x07 and\x00 nul") == "bell and nul"


def test_format_date_does_not_depend_on_the_locale() -> None:
    assert format_date(date(2026, 3, 2)) == "March 2, 2026"
    assert format_date(date(1988, 12, 31)) == "December 31, 1988"


# -- signature image -----------------------------------------------------------


@pytest.mark.parametrize("make_image", [png_signature, jpeg_signature], ids=["png", "jpeg"])
def test_signature_image_is_embedded_as_an_image_xobject(make_image: Any) -> None:
    data = render_letter(with_clinician(make_content(), signature_image=make_image()))

    assert len(image_xobjects(data)) == 1
    # The typed name and the e-signature line are still printed under the image.
    assert "Electronically signed by Avery Chen, MD on March 2, 2026" in full_text(data)


def test_signature_image_must_be_png_or_jpeg() -> None:
    with pytest.raises(ValueError, match="PNG or JPEG"):
        with_clinician(make_content(), signature_image=b"GIF89a...")


# -- pagination ----------------------------------------------------------------


def test_letter_body_is_on_page_one_and_signature_with_verification_on_page_two() -> None:
    pages = page_texts(render_letter(make_content()))

    assert len(pages) == 2
    assert "Page 1 of 2" in pages[0]
    assert "Page 2 of 2" in pages[1]
    assert "Justification of medical necessity" in pages[0]
    # The closing block (signature, credentials, verification) is never split.
    assert "Sincerely," in pages[1]
    assert "NPI: 1588667638" in pages[1]
    assert TOKEN in pages[1]
    # Page 2 says whose letter it continues; the letterhead is on page 1 only.
    assert "Letter of Medical Necessity · Jordan Rivera · DOB June 14, 1988 (continued)" in pages[1]
    assert "100 Example Street" not in pages[1]


def test_long_justification_flows_onto_page_two_cleanly() -> None:
    paragraphs = [
        f"Paragraph {n}: the patient keeps a sleep diary beside the device data, recording bedtime, wake time, "
        "awakenings and daytime sleepiness, so that changes in the cooling schedule are judged against measured "
        "sleep efficiency rather than recall alone."
        for n in range(1, 8)
    ]
    content = make_content(justification="\n\n".join(paragraphs))

    pages = page_texts(render_letter(content))

    assert len(pages) == 2
    assert "Page 1 of 2" in pages[0]
    assert "Page 2 of 2" in pages[1]
    # The justification starts on page 1 and continues on page 2, with nothing lost at the break.
    assert paragraphs[0] in pages[0]
    assert paragraphs[-1] in pages[1]
    text = " ".join(pages)
    assert all(paragraph in text for paragraph in paragraphs)
    assert "Sincerely, Avery Chen, MD Electronically signed by" in pages[1]
    assert f"https://flexlmn.test/verify/{TOKEN}/" in pages[1]


def test_one_long_justification_paragraph_starts_on_page_one_instead_of_leaving_a_gap() -> None:
    sentence = "Measured cooling reduces the nightly awakenings that drive this patient's insomnia. "
    content = make_content(justification="Opening words of the rationale. " + sentence * 40)

    pages = page_texts(render_letter(content))

    assert "Justification of medical necessity Opening words of the rationale." in pages[0]
    assert sentence.strip() in pages[1]


def test_a_long_company_address_wraps_in_the_letterhead_and_is_printed_whole() -> None:
    company = CompanyDetails(
        name="FlexLMN",
        address="FlexLMN, 12345 Extraordinarily Long Boulevard Name, Building 7, Suite 2000, San Francisco, CA 94105",
        phone="+1 (555) 010-0142",
        email="support-and-letters@flexlmn.example",
        website="https://letters.verification.flexlmn.test",
    )

    first_page = page_texts(render_letter(make_content(company=company)))[0]

    assert "12345 Extraordinarily Long Boulevard Name, Building 7" in first_page
    assert "Suite 2000, San Francisco, CA 94105" in first_page
    assert "support-and-letters@flexlmn.example" in first_page


def test_very_long_letter_numbers_every_page_with_the_total() -> None:
    content = make_content(justification="\n\n".join(["A long clinical rationale sentence. " * 20] * 12))

    pages = page_texts(render_letter(content))

    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


# -- content -------------------------------------------------------------------


def test_company_details_come_from_settings(settings: Any) -> None:
    settings.SITE_NAME = "FlexLMN"
    settings.COMPANY_ADDRESS = "FlexLMN, 1 Test Way, Denver, CO 80202"
    settings.SUPPORT_PHONE = "+1 (555) 010-0000"
    settings.SUPPORT_EMAIL = "help@flexlmn.test"
    settings.SITE_URL = "https://flexlmn.test"

    company = CompanyDetails.from_settings()

    assert company == CompanyDetails(
        name="FlexLMN",
        address="FlexLMN, 1 Test Way, Denver, CO 80202",
        phone="+1 (555) 010-0000",
        email="help@flexlmn.test",
        website="https://flexlmn.test",
    )
    assert "1 Test Way, Denver, CO 80202" in full_text(render_letter(make_content(company=company)))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": 0}, "version"),
        ({"valid_until": date(2026, 3, 2)}, "valid_until"),
        ({"treatment_plan": []}, "treatment_plan"),
        ({"verification_token": " "}, "verification_token"),
        ({"justification": ""}, "justification"),
    ],
)
def test_letter_content_rejects_incomplete_letters(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_content(**changes)


def test_patient_state_must_be_a_two_letter_code() -> None:
    with pytest.raises(ValueError, match="state"):
        PatientSnapshot(legal_name="Jordan Rivera", date_of_birth=date(1988, 6, 14), state="Colorado")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"credential": "RN"}, "credential"),
        ({"npi": "12345"}, "npi"),
        ({"license_state": "co"}, "license_state"),
        ({"email": ""}, "email"),
    ],
)
def test_clinician_snapshot_rejects_invalid_details(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        with_clinician(make_content(), **changes)


# -- helpers -------------------------------------------------------------------


class _FakeDoc:
    width = LetterRenderer.pagesize[0] - LetterRenderer.left_margin - LetterRenderer.right_margin


def _walk(flowable: Any) -> list[Any]:
    """Every flowable inside ``flowable`` (KeepTogether contents, table cells, lists)."""
    found = [flowable]
    children: list[Any] = []
    if isinstance(flowable, list):
        children = flowable
    elif hasattr(flowable, "_content"):
        children = flowable._content
    elif hasattr(flowable, "_cellvalues"):
        children = [cell for row in flowable._cellvalues for cell in row]
    for child in children:
        found += _walk(child)
    return found
