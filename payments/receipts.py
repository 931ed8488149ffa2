"""Itemized receipts for HSA/FSA substantiation, as a page and as a PDF (reportlab).

The renderer is shaped like an invoice renderer: page geometry and colours as
class attributes, first/later page hooks for the letterhead and footer, and
``generate() -> (filename, mimetype, bytes)``. It renders in reportlab's
invariant mode, so the same order gives byte-identical PDFs.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

from marketplace.models import Eligibility
from marketplace.templatetags.marketplace_tags import usd

from .models import Order, OrderItem, Payment, Refund
from .selectors import order_payment

ELIGIBILITY_CLASS: dict[str, str] = {
    Eligibility.AUTO_SUBSTANTIATION: "HSA/FSA-eligible (IIAS)",
    Eligibility.LMN_REQUIRED: "Eligible with LMN",
    Eligibility.NOT_ELIGIBLE: "Not eligible",
}


def _local(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return f"{local:%B} {local.day}, {local:%Y}"


@dataclass(frozen=True)
class ReceiptLine:
    description: str
    merchant: str
    eligibility: str
    eligibility_class: str
    gtin: str
    quantity: int
    unit_cents: int
    amount_cents: int
    refunded_cents: int


class ReceiptRenderer:
    pagesize = LETTER
    left_margin = 18 * mm
    right_margin = 18 * mm
    top_margin = 42 * mm
    bottom_margin = 22 * mm
    brand = colors.HexColor("#0f5132")
    muted = colors.HexColor("#5c636a")
    rule = colors.HexColor("#ced4da")
    font = "Helvetica"
    font_bold = "Helvetica-Bold"

    def __init__(self, order: Order) -> None:
        self.order = order
        self.items: list[OrderItem] = list(order.items.all())
        self.payment: Payment | None = order_payment(order)
        self.refunds: list[Refund] = list(order.refunds.all().order_by("created_at"))

    # -- the data, shared by the page and the PDF

    def lines(self) -> list[ReceiptLine]:
        return [
            ReceiptLine(
                description=item.name,
                merchant=item.merchant_name,
                eligibility=item.eligibility,
                eligibility_class=ELIGIBILITY_CLASS.get(item.eligibility, item.eligibility),
                gtin=item.gtin,
                quantity=item.quantity,
                unit_cents=item.unit_price_cents,
                amount_cents=item.line_total_cents,
                refunded_cents=item.refunded_cents,
            )
            for item in self.items
        ]

    def context(self) -> dict[str, Any]:
        order = self.order
        payment = self.payment
        lines = self.lines()
        paid = payment.amount_captured_cents if payment else 0
        refunded = order.refunded_cents
        return {
            "order": order,
            "lines": lines,
            "payment": payment,
            "refunds": self.refunds,
            "subtotal_cents": sum(line.amount_cents for line in lines),
            "paid_cents": paid,
            "refunded_cents": refunded,
            "net_cents": paid - refunded,
            "buyer_name": order.buyer_name or order.shopper.get_full_name(),
            "order_date": order.placed_at or order.created_at,
            "paid_at": payment.captured_at if payment else None,
            "letter_verification_url": order.letter_verification_url,
            "needs_letter": any(line.eligibility == Eligibility.LMN_REQUIRED for line in lines),
            "company_address": settings.COMPANY_ADDRESS,
            "support_email": settings.SUPPORT_EMAIL,
            "support_phone": settings.SUPPORT_PHONE,
        }

    # -- the PDF

    def filename(self) -> str:
        return f"flexlmn-receipt-{self.order.reference.lower()}.pdf"

    def _styles(self) -> dict[str, ParagraphStyle]:
        base = ParagraphStyle("base", fontName=self.font, fontSize=9, leading=12)
        return {
            "base": base,
            "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=self.muted),
            "label": ParagraphStyle(
                "label", parent=base, fontName=self.font_bold, fontSize=7.5, leading=10, textColor=self.muted
            ),
            "heading": ParagraphStyle(
                "heading", parent=base, fontName=self.font_bold, fontSize=11, leading=14, spaceBefore=6, spaceAfter=4
            ),
            "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
            "cell_right": ParagraphStyle("cell_right", parent=base, fontSize=8.5, leading=11, alignment=TA_RIGHT),
            "gtin": ParagraphStyle("gtin", parent=base, fontName="Courier", fontSize=8, leading=11),
            "total": ParagraphStyle("total", parent=base, fontName=self.font_bold, fontSize=10, alignment=TA_RIGHT),
        }

    def _letterhead(self, canvas: Canvas, doc: Any) -> None:
        width, height = self.pagesize
        canvas.saveState()
        canvas.setFillColor(self.brand)
        canvas.rect(0, height - 12 * mm, width, 12 * mm, stroke=0, fill=1)
        canvas.setFont(self.font_bold, 20)
        canvas.setFillColor(self.brand)
        canvas.drawString(self.left_margin, height - 25 * mm, "FlexLMN")
        canvas.setFont(self.font, 8)
        canvas.setFillColor(self.muted)
        canvas.drawString(self.left_margin, height - 30 * mm, settings.COMPANY_ADDRESS)
        canvas.drawString(self.left_margin, height - 34 * mm, f"{settings.SUPPORT_EMAIL} · {settings.SUPPORT_PHONE}")
        canvas.setFont(self.font_bold, 14)
        canvas.setFillColor(colors.black)
        canvas.drawRightString(width - self.right_margin, height - 25 * mm, "Itemized receipt")
        canvas.setFont(self.font, 9)
        canvas.drawRightString(width - self.right_margin, height - 30 * mm, f"Order {self.order.reference}")
        canvas.setStrokeColor(self.rule)
        canvas.line(self.left_margin, height - 38 * mm, width - self.right_margin, height - 38 * mm)
        canvas.restoreState()
        self._footer(canvas, doc)

    def _later_pages(self, canvas: Canvas, doc: Any) -> None:
        width, height = self.pagesize
        canvas.saveState()
        canvas.setFont(self.font_bold, 10)
        canvas.setFillColor(self.brand)
        canvas.drawString(self.left_margin, height - 20 * mm, "FlexLMN · Itemized receipt")
        canvas.setFont(self.font, 9)
        canvas.setFillColor(colors.black)
        canvas.drawRightString(width - self.right_margin, height - 20 * mm, f"Order {self.order.reference} (continued)")
        canvas.restoreState()
        self._footer(canvas, doc)

    def _footer(self, canvas: Canvas, doc: Any) -> None:
        width, _ = self.pagesize
        canvas.saveState()
        canvas.setFont(self.font, 7.5)
        canvas.setFillColor(self.muted)
        canvas.drawString(
            self.left_margin,
            12 * mm,
            "Keep this receipt for your HSA/FSA administrator. Eligibility depends on your plan.",
        )
        canvas.drawRightString(width - self.right_margin, 12 * mm, f"Page {doc.page}")
        canvas.restoreState()

    def _story(self) -> list[Any]:
        s = self._styles()
        ctx = self.context()
        order: Order = ctx["order"]
        payment: Payment | None = ctx["payment"]
        width = self.pagesize[0] - self.left_margin - self.right_margin

        def para(text: str, style: str = "base") -> Paragraph:
            return Paragraph(text, s[style])

        ship = "<br/>".join(escape(line) for line in order.shipping_address_lines) or "—"
        card = escape(payment.card_display) if payment and payment.card_last4 else "—"
        meta = Table(
            [
                [para("BILLED TO", "label"), para("ORDER", "label"), para("PAYMENT", "label")],
                [
                    para(f"<b>{escape(ctx['buyer_name'])}</b><br/>{escape(order.buyer_email)}<br/>{ship}"),
                    para(
                        f"Reference: <b>{order.reference}</b><br/>Order date: {_local(ctx['order_date'])}"
                        f"<br/>Paid on: {_local(ctx['paid_at'])}<br/>Order id: {order.pk}",
                        "cell",
                    ),
                    para(f"{card}<br/>Amount paid: <b>{usd(ctx['paid_cents'])}</b>", "cell"),
                ],
            ],
            colWidths=[width * 0.36, width * 0.38, width * 0.26],
        )
        meta.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))

        header = ["Item", "Merchant", "Eligibility", "GTIN", "Qty", "Unit", "Amount"]
        rows: list[list[Any]] = [
            [para(f"<b>{h}</b>", "cell_right" if i >= 4 else "cell") for i, h in enumerate(header)]
        ]
        for line in ctx["lines"]:
            description = escape(line.description)
            if line.refunded_cents:
                description += f"<br/><font color='#842029' size='7.5'>Refunded {usd(line.refunded_cents)}</font>"
            rows.append(
                [
                    para(description, "cell"),
                    para(escape(line.merchant), "cell"),
                    para(escape(line.eligibility_class), "cell"),
                    para(escape(line.gtin) or "—", "gtin"),
                    para(str(line.quantity), "cell_right"),
                    para(usd(line.unit_cents), "cell_right"),
                    para(usd(line.amount_cents), "cell_right"),
                ]
            )
        items = Table(
            rows,
            colWidths=[width * f for f in (0.24, 0.15, 0.17, 0.17, 0.06, 0.10, 0.11)],
            repeatRows=1,
        )
        items.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, self.brand),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.3, self.rule),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9f7ef")),
                    ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ]
            )
        )

        totals_rows = [["Subtotal", usd(ctx["subtotal_cents"])], ["Amount paid", usd(ctx["paid_cents"])]]
        if ctx["refunded_cents"]:
            totals_rows += [["Refunded", usd(-ctx["refunded_cents"])], ["Net paid", usd(ctx["net_cents"])]]
        totals = Table(
            [[para(label, "cell_right"), para(f"<b>{value}</b>", "cell_right")] for label, value in totals_rows],
            colWidths=[width * 0.78, width * 0.22],
        )
        totals.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, 0), 0.8, self.rule)]))

        story: list[Any] = [meta, Spacer(1, 8 * mm), items, Spacer(1, 2 * mm), totals, Spacer(1, 8 * mm)]
        if ctx["needs_letter"]:
            if ctx["letter_verification_url"]:
                text = (
                    "Items marked <b>Eligible with LMN</b> are covered by a Letter of Medical Necessity. "
                    f"Your administrator can verify it at: <b>{escape(ctx['letter_verification_url'])}</b>"
                )
            else:
                text = (
                    "Items marked <b>Eligible with LMN</b> are HSA/FSA-eligible with the Letter of Medical Necessity "
                    "issued for this order; submit it with this receipt."
                )
            story.append(KeepTogether([para("Letter of Medical Necessity", "heading"), para(text)]))
        if ctx["refunds"]:
            refund_lines = "<br/>".join(
                f"{_local(refund.created_at)}: {usd(refund.amount_cents)} — {escape(refund.reason)}"
                for refund in ctx["refunds"]
            )
            story.append(KeepTogether([para("Refunds", "heading"), para(refund_lines, "cell")]))
        story += [
            Spacer(1, 6 * mm),
            para(
                "Eligibility classes: <b>HSA/FSA-eligible (IIAS)</b> — on the IIAS eligible-product list, identified "
                "by its GTIN; <b>Eligible with LMN</b> — eligible when a Letter of Medical Necessity covers it; "
                "<b>Not eligible</b> — not payable with HSA/FSA funds.",
                "small",
            ),
            para(
                f"Questions about this receipt: {escape(settings.SUPPORT_EMAIL)} · {escape(settings.SUPPORT_PHONE)}",
                "small",
            ),
        ]
        return story

    def generate(self) -> tuple[str, str, bytes]:
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=self.pagesize,
            leftMargin=self.left_margin,
            rightMargin=self.right_margin,
            topMargin=self.top_margin,
            bottomMargin=self.bottom_margin,
            title=f"FlexLMN receipt {self.order.reference}",
            author="FlexLMN",
            creator="FlexLMN",
            subject="Itemized receipt for HSA/FSA substantiation",
            # Invariant mode: no creation date or random document id, so identical orders give identical bytes.
            invariant=1,
        )
        doc.build(self._story(), onFirstPage=self._letterhead, onLaterPages=self._later_pages)
        return self.filename(), "application/pdf", buffer.getvalue()
