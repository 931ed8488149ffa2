"""The Letter of Medical Necessity PDF: its letterhead, blocks and verification QR code.

The machinery (page geometry, fonts, styles, page numbers, deterministic
output) is :class:`letters.pdf_base.BaseLetterRenderer`; this module lays out
the letter on it. ``render_letter(content)`` answers the PDF bytes.
"""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any, ClassVar

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Image,
    KeepTogether,
    NextPageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from .content import LetterContent
from .pdf_base import (
    MIME_TYPE,
    BaseLetterRenderer,
    _clean,
    escape,
    format_date,
    pdf_sha256,
)
from .qr import QrCode

__all__ = ["MIME_TYPE", "BaseLetterRenderer", "LetterRenderer", "escape", "format_date", "pdf_sha256", "render_letter"]


class LetterRenderer(BaseLetterRenderer):
    """FlexLMN's Letter of Medical Necessity on US Letter paper."""

    qr_size: ClassVar[float] = 28 * mm
    signature_max_width: ClassVar[float] = 62 * mm
    signature_max_height: ClassVar[float] = 19 * mm

    # -- page furniture ------------------------------------------------------

    def _on_first_page(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        company = self.content.company
        width, height = self.pagesize
        left, right = self.left_margin, width - self.right_margin
        top = height - self.top_margin
        canvas.saveState()

        name = _clean(company.name)
        tagline = "Telehealth Letters of Medical Necessity for HSA/FSA purchases"
        canvas.setFillColor(self.brand)
        canvas.setFont(self.font_bold, 22)
        canvas.drawString(left, top - 20, name)
        canvas.setFillColor(self.muted)
        canvas.setFont(self.font_regular, 8.5)
        canvas.drawString(left, top - 33, tagline)

        # The contact block shares the lines of the name and tagline: keep clear of them.
        brand_width = max(
            pdfmetrics.stringWidth(name, self.font_bold, 22), pdfmetrics.stringWidth(tagline, self.font_regular, 8.5)
        )
        max_width = right - left - brand_width - 8 * mm
        canvas.setFillColor(self.ink)
        lines = [
            *self._split_at_commas(self._company_address(), self.font_regular, 8.5, max_width, max_lines=2),
            f"Phone {_clean(company.phone)}",
            _clean(company.email),
            self._website_display(),
        ]
        y = top - 9 if len(lines) <= 4 else top - 5
        for line in lines:
            text, size = self._fit(line, self.font_regular, 8.5, max_width)
            canvas.setFont(self.font_regular, size)
            canvas.drawRightString(right, y, text)
            y -= 11

        canvas.setStrokeColor(self.brand)
        canvas.setLineWidth(1.4)
        rule_y = height - self.top_margin - self.letterhead_height + 6 * mm
        canvas.line(left, rule_y, right, rule_y)
        canvas.restoreState()
        self._draw_footer(canvas)

    def _on_other_pages(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        patient = self.content.patient
        width, height = self.pagesize
        left, right = self.left_margin, width - self.right_margin
        top = height - self.top_margin
        canvas.saveState()
        name = _clean(self.content.company.name)
        canvas.setFillColor(self.brand)
        canvas.setFont(self.font_bold, 11)
        canvas.drawString(left, top - 10, name)
        max_width = right - left - pdfmetrics.stringWidth(name, self.font_bold, 11) - 8 * mm
        text, size = self._fit(
            f"Letter of Medical Necessity · {_clean(patient.legal_name)} · "
            f"DOB {format_date(patient.date_of_birth)} (continued)",
            self.font_regular,
            8.5,
            max_width,
        )
        canvas.setFillColor(self.muted)
        canvas.setFont(self.font_regular, size)
        canvas.drawRightString(right, top - 10, text)
        canvas.setStrokeColor(self.rule)
        canvas.setLineWidth(0.6)
        canvas.line(left, top - 16, right, top - 16)
        canvas.restoreState()
        self._draw_footer(canvas)

    def _draw_footer(self, canvas: Canvas) -> None:
        content = self.content
        width = self.pagesize[0]
        left, right = self.left_margin, width - self.right_margin
        canvas.saveState()
        canvas.setStrokeColor(self.rule)
        canvas.setLineWidth(0.6)
        canvas.line(left, self.footer_y + 10, right, self.footer_y + 10)
        # Leave room on the right for "Page N of M", which the canvas draws last.
        text, size = self._fit(
            f"{_clean(content.company.name)} · Letter {_clean(content.letter_id)}, version {content.version} · "
            f"Verify at {self._website_display()}/verify/",
            self.font_regular,
            7.5,
            right - left - 25 * mm,
        )
        canvas.setFillColor(self.muted)
        canvas.setFont(self.font_regular, size)
        canvas.drawString(left, self.footer_y, text)
        canvas.restoreState()

    def _company_address(self) -> str:
        company = self.content.company
        address = _clean(company.address)
        # COMPANY_ADDRESS usually starts with the company name, which the letterhead already prints large.
        prefix = f"{company.name}, "
        return address[len(prefix) :] if address.startswith(prefix) else address

    def _website_display(self) -> str:
        return re.sub(r"^https?://", "", _clean(self.content.company.website)).rstrip("/")

    # -- story ---------------------------------------------------------------

    def _get_story(self, doc: BaseDocTemplate) -> list[Flowable]:
        return [
            # The first page has the letterhead; every page after it the continuation header.
            NextPageTemplate("OtherPages"),
            *self._title_block(doc),
            *self._patient_block(doc),
            *self._opening(),
            *self._diagnosis_block(doc),
            *self._treatment_block(doc),
            *self._justification_block(),
            # The signature and the verification panel form one closing block that is never split:
            # a page holding only the verification panel would read like a stray attachment.
            KeepTogether(
                [Spacer(1, 4 * mm), self._signature_block(doc), Spacer(1, 6 * mm), self._verification_block(doc)]
            ),
        ]

    def _labelled_row(self, items: list[tuple[str, str]], widths: list[float]) -> Table:
        """A row of small upper-case labels over bold values."""
        s = self.stylesheet
        table = Table(
            [
                [Paragraph(escape(label.upper()), s["Label"]) for label, _ in items],
                [Paragraph(escape(value), s["Value"]) for _, value in items],
            ],
            colWidths=widths,
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4 * mm),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, 0), 1),
                    ("BOTTOMPADDING", (0, 1), (-1, 1), 0),
                ]
            )
        )
        return table

    def _title_block(self, doc: BaseDocTemplate) -> list[Flowable]:
        content = self.content
        s = self.stylesheet
        width = doc.width
        return [
            Paragraph("Letter of Medical Necessity", s["Title"]),
            Spacer(1, 3 * mm),
            self._labelled_row(
                [
                    ("Date of letter", format_date(content.issued_on)),
                    ("Valid until", format_date(content.valid_until)),
                    ("Letter reference", f"{content.letter_id} · v{content.version}"),
                ],
                [0.24 * width, 0.24 * width, 0.52 * width],
            ),
            Spacer(1, 2.5 * mm),
            Paragraph("To whom it may concern / HSA/FSA plan administrator:", s["Body"]),
            Spacer(1, 2.5 * mm),
        ]

    def _patient_block(self, doc: BaseDocTemplate) -> list[Flowable]:
        patient = self.content.patient
        s = self.stylesheet
        width = doc.width
        table = Table(
            [
                [Paragraph("PATIENT", s["Label"]), "", ""],
                [
                    Paragraph(escape(patient.legal_name), s["Value"]),
                    Paragraph(f"Date of birth: <b>{format_date(patient.date_of_birth)}</b>", s["Normal"]),
                    Paragraph(f"State of residence: <b>{escape(patient.state)}</b>", s["Normal"]),
                ],
            ],
            colWidths=[0.44 * width, 0.30 * width, 0.26 * width],
        )
        table.setStyle(
            TableStyle(
                [
                    ("SPAN", (0, 0), (-1, 0)),
                    ("BACKGROUND", (0, 0), (-1, -1), self.panel),
                    ("LINEBEFORE", (0, 0), (0, -1), 2.5, self.brand),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3.5 * mm),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
                    ("TOPPADDING", (0, 0), (-1, 0), 2.5 * mm),
                    ("BOTTOMPADDING", (0, 0), (-1, 0), 0.5 * mm),
                    ("TOPPADDING", (0, 1), (-1, 1), 0.5 * mm),
                    ("BOTTOMPADDING", (0, 1), (-1, 1), 3 * mm),
                ]
            )
        )
        return [table]

    def _opening(self) -> list[Flowable]:
        content = self.content
        clinician = content.clinician
        text = (
            f"As a licensed clinician ({escape(clinician.title)}), I reviewed this patient’s medical history and "
            f"symptoms in a telehealth consultation. I recommend the treatment below as medically necessary for "
            f"the diagnosed condition."
        )
        return [Paragraph(text, self.stylesheet["Body"])]

    def _diagnosis_block(self, doc: BaseDocTemplate) -> list[Flowable]:
        content = self.content
        s = self.stylesheet
        width = doc.width
        rows = [
            [Paragraph("Condition", s["Bold"]), Paragraph(escape(content.diagnosis), s["Normal"])],
            [
                Paragraph("ICD-10-CM", s["Bold"]),
                Paragraph(f"<b>{escape(content.icd10_code)}</b> – {escape(content.icd10_description)}", s["Normal"]),
            ],
        ]
        table = Table(rows, colWidths=[0.22 * width, 0.78 * width])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 * mm),
                ]
            )
        )
        story: list[Flowable] = [*self._heading("Diagnosis"), table]
        if _clean(content.relevant_history):
            story += self._paragraphs(content.relevant_history, lead="Relevant history:")
        return story

    def _treatment_block(self, doc: BaseDocTemplate) -> list[Flowable]:
        content = self.content
        s = self.stylesheet
        width = doc.width
        rows: list[list[Any]] = [
            [
                Paragraph("Product or category", s["TableHead"]),
                Paragraph("Frequency", s["TableHead"]),
                Paragraph("Duration", s["TableHead"]),
            ]
        ]
        for item in content.treatment_plan:
            rows.append(
                [
                    Paragraph(escape(item.product_or_category), s["TableCell"]),
                    Paragraph(escape(item.frequency), s["TableCell"]),
                    Paragraph(escape(item.duration), s["TableCell"]),
                ]
            )
        table = Table(rows, colWidths=[0.46 * width, 0.30 * width, 0.24 * width], repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), self.panel),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, self.brand),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.4, self.rule),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2.5 * mm),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2.5 * mm),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.8 * mm),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.8 * mm),
                ]
            )
        )
        story: list[Flowable] = [*self._heading("Treatment plan"), table]
        categories = [_clean(category) for category in content.covered_categories if _clean(category)]
        if categories:
            story += [
                Spacer(1, 2 * mm),
                Paragraph(f"<b>Covered categories:</b> {escape(', '.join(categories))}", s["Small"]),
            ]
        return story

    def _justification_block(self) -> list[Flowable]:
        s = self.stylesheet
        closing = (
            "In my professional judgment, the treatment above is medically necessary to treat, mitigate or "
            "alleviate the patient’s diagnosed condition, and the patient would not otherwise purchase it but "
            "for this condition."
        )
        return [
            *self._heading("Justification of medical necessity"),
            *self._paragraphs(self.content.justification),
            Paragraph(closing, s["Body"]),
        ]

    def _signature_block(self, doc: BaseDocTemplate) -> Table:
        """The signature on the left, the clinician's credentials and contact details on the right."""
        clinician = self.content.clinician
        s = self.stylesheet
        signature: list[Flowable] = [Paragraph("Sincerely,", s["Normal"]), Spacer(1, 2.5 * mm)]
        if clinician.signature_image is not None:
            signature.append(self._signature_image(clinician.signature_image))
        else:
            signature.append(self._typed_signature(clinician.signature_text))
        signature += [
            _Rule(self.signature_max_width + 8 * mm, self.muted),
            Paragraph(
                f"Electronically signed by {escape(clinician.signature_text)} on {format_date(self.content.issued_on)}",
                s["SmallMuted"],
            ),
        ]
        details: list[Flowable] = [
            Paragraph(escape(clinician.display_name), s["Value"]),
            Paragraph(escape(clinician.title), s["Small"]),
            Spacer(1, 1.2 * mm),
            Paragraph(f"<b>License no.:</b> {escape(clinician.license_number)}", s["Small"]),
            Paragraph(f"<b>License state:</b> {escape(clinician.license_state)}", s["Small"]),
            Paragraph(f"<b>NPI:</b> {escape(clinician.npi)}", s["Small"]),
            Paragraph(f"<b>Phone:</b> {escape(clinician.phone)}", s["Small"]),
            Paragraph(f"<b>Email:</b> {escape(clinician.email)}", s["Small"]),
        ]
        width = doc.width
        table = Table([[signature, details]], colWidths=[0.52 * width, 0.48 * width])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                    ("LINEBEFORE", (1, 0), (1, 0), 0.6, self.rule),
                    ("LEFTPADDING", (1, 0), (1, 0), 4 * mm),
                ]
            )
        )
        return table

    def _signature_image(self, data: bytes) -> Flowable:
        image = Image(BytesIO(data))
        scale = min(self.signature_max_width / image.imageWidth, self.signature_max_height / image.imageHeight)
        image.drawWidth = image.imageWidth * scale
        image.drawHeight = image.imageHeight * scale
        image.hAlign = "LEFT"
        return image

    def _typed_signature(self, text: str) -> Flowable:
        # The handwriting face covers Latin letters only; anything else falls back to italics.
        face = pdfmetrics.getFont(self.font_signature).face
        cleaned = _clean(text)
        style = "Signature" if all(ord(char) in face.charToGlyph for char in cleaned) else "SignatureTyped"
        return Paragraph(escape(cleaned), self.stylesheet[style])

    def _verification_block(self, doc: BaseDocTemplate) -> Table:
        content = self.content
        s = self.stylesheet
        text_width = doc.width - self.qr_size - 8 * mm
        details: list[Flowable] = [
            Paragraph("Validity and verification", s["Bold"]),
            Spacer(1, 1 * mm),
            Paragraph(
                f"Issued <b>{format_date(content.issued_on)}</b>, valid until "
                f"<b>{format_date(content.valid_until)}</b>. A Letter of Medical Necessity is valid for 12 months "
                "from its issue date. The HSA/FSA administrator can verify this letter online (genuine, valid, "
                "expired or revoked) by scanning the QR code or by entering the token at "
                f"{escape(self._website_display())}/verify/.",
                s["Small"],
            ),
            Spacer(1, 1.5 * mm),
            Paragraph("VERIFICATION TOKEN", s["Label"]),
            Paragraph(escape(content.verification_token), s["Bold"].clone("Token", fontSize=9, leading=11.5)),
            Spacer(1, 1 * mm),
            Paragraph("VERIFY ONLINE", s["Label"]),
            Paragraph(escape(content.verification_url), s["Small"]),
        ]
        qr = [self._qr_code(content.verification_url), Paragraph("Scan to verify", s["Center"])]
        table = Table([[details, qr]], colWidths=[text_width + 4 * mm, self.qr_size + 4 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.8, self.rule),
                    ("BACKGROUND", (0, 0), (-1, -1), self.panel),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LEFTPADDING", (0, 0), (0, 0), 4 * mm),
                    ("RIGHTPADDING", (0, 0), (0, 0), 2 * mm),
                    ("LEFTPADDING", (1, 0), (1, 0), 0),
                    ("RIGHTPADDING", (1, 0), (1, 0), 2 * mm),
                    ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
                ]
            )
        )
        return table

    def _qr_code(self, url: str) -> Flowable:
        return QrCode(url, size=self.qr_size)


class _Rule(Flowable):
    """A short signature line."""

    def __init__(self, width: float, color: colors.Color) -> None:
        super().__init__()
        self.width = width
        self.color = color
        self.spaceAfter = 1.5 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return min(self.width, avail_width), 1

    def draw(self) -> None:
        self.canv.setStrokeColor(self.color)
        self.canv.setLineWidth(0.6)
        self.canv.line(0, 0, self.width, 0)


def render_letter(content: LetterContent) -> bytes:
    """The PDF bytes of ``content`` with the standard renderer."""
    return LetterRenderer().generate(content)[2]
