"""The renderer machinery behind the letter PDF: page geometry, fonts, styles and helpers.

A reportlab renderer class in the shape of an invoice renderer: page geometry
and fonts are class attributes, ``_on_first_page`` / ``_on_other_pages`` draw
the letterhead, continuation header and footer, ``_get_story`` lays out the
document, and :meth:`BaseLetterRenderer.generate` returns
``(filename, "application/pdf", bytes)``. ``letters.pdf`` holds the letter
itself (:class:`~letters.pdf.LetterRenderer`).

Rendering is deterministic: reportlab's invariant mode (no timestamps, fixed
document id), the PDF creation date set to the letter's issue date, and fonts
vendored in ``static/letters/fonts`` rather than taken from the host. The same
:class:`~letters.content.LetterContent` therefore always renders the same
bytes, so a letter's SHA-256 identifies it.
"""

from __future__ import annotations

import abc
import hashlib
import html
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from functools import partial
from io import BytesIO
from typing import Any, ClassVar

from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, StyleSheet1
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
)

from .content import LetterContent

MIME_TYPE = "application/pdf"

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# C0/C1 control characters other than tab and newline: reportlab would print them as boxes.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BLANK_LINE_RE = re.compile(r"\n\s*\n")


def pdf_sha256(data: bytes) -> str:
    """Hex SHA-256 of a rendered PDF: what the letter stores and /verify/ compares."""
    return hashlib.sha256(data).hexdigest()


def format_date(value: date) -> str:
    """A date as the letter prints it, independent of the server's locale: "March 2, 2026"."""
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"


def _clean(text: str) -> str:
    """Unicode-normalized plain text without control characters or stray whitespace."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_RE.sub("", text).strip()


def escape(text: str) -> str:
    """Plain text made safe for a reportlab ``Paragraph``, whose text is XML-like
    markup: ``O'Brien <Jr> & Co`` must print literally, never as tags."""
    return html.escape(_clean(text), quote=False).replace("\n", "<br/>")


class _NumberedCanvas(Canvas):
    """A canvas that holds every page until the end so each can say "Page N of M"."""

    def __init__(
        self,
        *args: Any,
        page_number_font: str,
        page_number_size: float,
        page_number_x: float,
        page_number_y: float,
        page_number_color: colors.Color,
        creation_date: date,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._page_number_font = page_number_font
        self._page_number_size = page_number_size
        self._page_number_x = page_number_x
        self._page_number_y = page_number_y
        self._page_number_color = page_number_color
        self._saved_page_states: list[dict[str, Any]] = []
        # Invariant mode would stamp 2000-01-01; the issue date is as stable and more truthful.
        day = creation_date
        self.setDateFormatter(lambda *_: f"D:{day.year:04d}{day.month:02d}{day.day:02d}000000+00'00'")

    def showPage(self) -> None:
        self._saved_page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        page_count = len(self._saved_page_states)
        for state in self._saved_page_states:
            self.__dict__.update(state)
            self._draw_page_number(page_count)
            Canvas.showPage(self)
        Canvas.save(self)

    def _draw_page_number(self, page_count: int) -> None:
        self.saveState()
        self.setFont(self._page_number_font, self._page_number_size)
        self.setFillColor(self._page_number_color)
        self.drawRightString(self._page_number_x, self._page_number_y, f"Page {self._pageNumber} of {page_count}")
        self.restoreState()


class _SectionHeading(Flowable):
    """A section title with a rule under it (see ``_heading`` for how it stays with its text)."""

    def __init__(self, text: str, *, font: str, size: float, color: colors.Color, rule: colors.Color) -> None:
        super().__init__()
        self.text = text
        self.font = font
        self.size = size
        self.color = color
        self.rule = rule
        self.spaceBefore = 4.5 * mm
        self.spaceAfter = 2.2 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, self.size + 4

    def draw(self) -> None:
        canvas = self.canv
        canvas.setFont(self.font, self.size)
        canvas.setFillColor(self.color)
        canvas.drawString(0, 5, self.text)
        canvas.setStrokeColor(self.rule)
        canvas.setLineWidth(0.6)
        canvas.line(0, 0, self.width, 0)


class BaseLetterRenderer(abc.ABC):
    """Machinery shared by letter layouts: geometry, fonts, page hooks, numbering.

    A renderer instance keeps the letter being rendered on ``self.content``
    during :meth:`generate`; make one per call (they are cheap), never share
    one between threads.
    """

    pagesize: ClassVar[tuple[float, float]] = LETTER
    left_margin: ClassVar[float] = 22 * mm
    right_margin: ClassVar[float] = 22 * mm
    top_margin: ClassVar[float] = 14 * mm
    bottom_margin: ClassVar[float] = 22 * mm
    # Room under the top margin that the first page's letterhead and the other
    # pages' continuation header take before the story starts.
    letterhead_height: ClassVar[float] = 26 * mm
    continuation_header_height: ClassVar[float] = 13 * mm
    # Baseline of the footer line and the page number.
    footer_y: ClassVar[float] = 12 * mm

    doc_template_class: ClassVar[type[BaseDocTemplate]] = BaseDocTemplate

    # Fonts are files under static/ so every host renders the same glyphs.
    font_regular: ClassVar[str] = "FlexLMNSans"
    font_bold: ClassVar[str] = "FlexLMNSans-Bold"
    font_italic: ClassVar[str] = "FlexLMNSans-Italic"
    font_signature: ClassVar[str] = "FlexLMNSignature"
    font_files: ClassVar[dict[str, str]] = {
        "FlexLMNSans": "letters/fonts/LiberationSans-Regular.ttf",
        "FlexLMNSans-Bold": "letters/fonts/LiberationSans-Bold.ttf",
        "FlexLMNSans-Italic": "letters/fonts/LiberationSans-Italic.ttf",
        "FlexLMNSignature": "letters/fonts/Kristi.ttf",
    }

    ink: ClassVar[colors.Color] = colors.HexColor("#1f2933")
    muted: ClassVar[colors.Color] = colors.HexColor("#5f6b7a")
    brand: ClassVar[colors.Color] = colors.HexColor("#0b6e68")
    rule: ClassVar[colors.Color] = colors.HexColor("#c9d2dc")
    panel: ClassVar[colors.Color] = colors.HexColor("#f2f6f8")

    # Room a section heading needs below it (its own height and about three lines), or it moves on.
    heading_min_room: ClassVar[float] = 22 * mm

    content: LetterContent

    @classmethod
    def _register_fonts(cls) -> None:
        """Register the vendored fonts once per process (reportlab keeps a global registry)."""
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name, static_path in cls.font_files.items():
            if name in registered:
                continue
            path = finders.find(static_path)
            if not isinstance(path, str):
                raise ImproperlyConfigured(f"Letter font {static_path} is missing from the static files")
            pdfmetrics.registerFont(TTFont(name, path))
        # Lets <b>/<i> in our own paragraph markup pick the matching faces.
        pdfmetrics.registerFontFamily(
            cls.font_regular,
            normal=cls.font_regular,
            bold=cls.font_bold,
            italic=cls.font_italic,
            boldItalic=cls.font_bold,
        )

    def _init(self) -> None:
        self._register_fonts()
        self.stylesheet = self._get_stylesheet()

    def _get_stylesheet(self) -> StyleSheet1:
        sheet = StyleSheet1()
        base = ParagraphStyle(
            name="Normal", fontName=self.font_regular, fontSize=10, leading=14.2, textColor=self.ink, alignment=TA_LEFT
        )
        sheet.add(base)
        # Space before, not after, so a section heading after a paragraph gets the same gap as after a table.
        sheet.add(ParagraphStyle(name="Body", parent=base, spaceBefore=2.5 * mm))
        sheet.add(ParagraphStyle(name="Bold", parent=base, fontName=self.font_bold))
        sheet.add(ParagraphStyle(name="Small", parent=base, fontSize=8.5, leading=11.5))
        sheet.add(ParagraphStyle(name="SmallMuted", parent=base, fontSize=8.5, leading=11.5, textColor=self.muted))
        sheet.add(
            ParagraphStyle(
                name="Label", parent=base, fontName=self.font_bold, fontSize=7, leading=9, textColor=self.muted
            )
        )
        sheet.add(ParagraphStyle(name="Value", parent=base, fontName=self.font_bold, fontSize=10, leading=13))
        sheet.add(
            ParagraphStyle(name="Title", parent=base, fontName=self.font_bold, fontSize=19, leading=23, spaceAfter=1)
        )
        sheet.add(ParagraphStyle(name="TableHead", parent=base, fontName=self.font_bold, fontSize=8.5, leading=11))
        sheet.add(ParagraphStyle(name="TableCell", parent=base, fontSize=9.5, leading=12.5))
        sheet.add(ParagraphStyle(name="Signature", parent=base, fontName=self.font_signature, fontSize=26, leading=30))
        sheet.add(
            ParagraphStyle(name="SignatureTyped", parent=base, fontName=self.font_italic, fontSize=18, leading=24)
        )
        sheet.add(ParagraphStyle(name="Center", parent=base, fontSize=7, leading=9, alignment=TA_CENTER))
        sheet.add(ParagraphStyle(name="Right", parent=base, fontSize=8.5, leading=11.5, alignment=TA_RIGHT))
        return sheet

    def _heading(self, text: str) -> list[Flowable]:
        """A section heading that never ends a page: with less than a few lines of room left it
        starts the next page. (``keepWithNext`` would move a long paragraph to the next page
        whole, leaving a gap, instead of letting it start here and flow on.)"""
        return [
            CondPageBreak(self.heading_min_room),
            _SectionHeading(text, font=self.font_bold, size=11.5, color=self.brand, rule=self.rule),
        ]

    def _paragraphs(self, text: str, style: str = "Body", lead: str = "") -> list[Flowable]:
        """One Paragraph per blank-line-separated block, so long text breaks across pages between blocks too.
        ``lead`` is a bold run-in heading before the first block."""
        blocks = [escape(block) for block in _BLANK_LINE_RE.split(_clean(text))]
        if lead:
            blocks[0] = f"<b>{escape(lead)}</b> {blocks[0]}"
        return [Paragraph(block, self.stylesheet[style]) for block in blocks]

    @staticmethod
    def _fit(text: str, font: str, size: float, max_width: float, min_size: float = 6.0) -> tuple[str, float]:
        """A single canvas line that fits ``max_width``: a smaller size first, then an ellipsis."""
        while size > min_size and pdfmetrics.stringWidth(text, font, size) > max_width:
            size -= 0.5
        if pdfmetrics.stringWidth(text, font, size) > max_width:
            while text and pdfmetrics.stringWidth(text + "…", font, size) > max_width:
                text = text[:-1]
            text = text.rstrip() + "…"
        return text, size

    @staticmethod
    def _split_at_commas(text: str, font: str, size: float, max_width: float, max_lines: int) -> list[str]:
        """``text`` on as few lines as fit ``max_width`` (at most ``max_lines``), broken after commas."""
        parts = text.split(", ")
        lines: list[str] = []
        while parts:
            count = len(parts)
            if len(lines) < max_lines - 1:
                # The longest run of leading parts that fits; the last line takes whatever is left.
                while count > 1 and pdfmetrics.stringWidth(", ".join(parts[:count]), font, size) > max_width:
                    count -= 1
            lines.append(", ".join(parts[:count]))
            parts = parts[count:]
        return lines

    # -- page hooks ---------------------------------------------------------

    def _on_first_page(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        """Draw what the first page has around the story: letterhead and footer."""
        self._draw_footer(canvas)

    def _on_other_pages(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        """Draw what every later page has around the story: continuation header and footer."""
        self._draw_footer(canvas)

    def _draw_footer(self, canvas: Canvas) -> None:  # noqa: B027 - an optional hook, empty by default
        """Draw a footer on every page; renderers without one leave this as is."""

    # -- document -----------------------------------------------------------

    def _get_first_page_frames(self, doc: BaseDocTemplate) -> list[Frame]:
        return [
            Frame(
                doc.leftMargin,
                doc.bottomMargin,
                doc.width,
                doc.height - self.letterhead_height,
                leftPadding=0,
                rightPadding=0,
                topPadding=0,
                bottomPadding=0,
                id="first",
            )
        ]

    def _get_other_page_frames(self, doc: BaseDocTemplate) -> list[Frame]:
        return [
            Frame(
                doc.leftMargin,
                doc.bottomMargin,
                doc.width,
                doc.height - self.continuation_header_height,
                leftPadding=0,
                rightPadding=0,
                topPadding=0,
                bottomPadding=0,
                id="other",
            )
        ]

    @abc.abstractmethod
    def _get_story(self, doc: BaseDocTemplate) -> list[Flowable]:
        """The letter's body: each concrete renderer lays out its own content."""

    def _canvas_maker(self) -> Callable[..., Canvas]:
        return partial(
            _NumberedCanvas,
            page_number_font=self.font_regular,
            page_number_size=8,
            page_number_x=self.pagesize[0] - self.right_margin,
            page_number_y=self.footer_y,
            page_number_color=self.muted,
            creation_date=self.content.issued_on,
        )

    def _build_doc(self, buffer: BytesIO) -> None:
        self._init()
        doc = self.doc_template_class(
            buffer,
            pagesize=self.pagesize,
            leftMargin=self.left_margin,
            rightMargin=self.right_margin,
            topMargin=self.top_margin,
            bottomMargin=self.bottom_margin,
            # No timestamps, no random document id: the same letter is the same bytes.
            invariant=1,
            title="Letter of Medical Necessity",
            author=self.content.company.name,
            creator=self.content.company.name,
            subject="",
            keywords="",
        )
        doc.addPageTemplates(
            [
                PageTemplate(id="FirstPage", frames=self._get_first_page_frames(doc), onPage=self._on_first_page),
                PageTemplate(id="OtherPages", frames=self._get_other_page_frames(doc), onPage=self._on_other_pages),
            ]
        )
        doc.build(self._get_story(doc), canvasmaker=self._canvas_maker())

    def filename(self) -> str:
        letter_ref = re.sub(r"[^A-Za-z0-9-]", "", self.content.letter_id)[:64] or "letter"
        return f"flexlmn-letter-{letter_ref}-v{self.content.version}.pdf"

    def generate(self, content: LetterContent) -> tuple[str, str, bytes]:
        """Render ``content``; return ``(filename, "application/pdf", pdf_bytes)``."""
        self.content = content
        buffer = BytesIO()
        self._build_doc(buffer)
        return self.filename(), MIME_TYPE, buffer.getvalue()
