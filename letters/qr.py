"""The letter's QR code: reportlab's own encoder, with a faster mask choice and drawing.

reportlab's QrCodeWidget picks the best of eight masks by scoring each in pure
Python (~25 ms a letter); :func:`qr_penalty` scores identically from byte
patterns, and :class:`QrCode` draws the chosen modules as one filled path.
"""

from __future__ import annotations

import itertools
import re

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib import colors
from reportlab.platypus import Flowable

# Lines of modules are joined with this byte, so no run or pattern crosses from one line to the next.
_QR_LINE_BREAK = b"\x02"
_QR_LONG_RUN_RE = re.compile(rb"\x00{5,}|\x01{5,}")
# Dark-light-dark-dark-dark-light-dark then four light, not at the very end of a row.
_QR_FINDER_LIKE_RE = re.compile(rb"\x01\x00\x01\x01\x01\x00\x01\x00\x00\x00\x00(?=[\x00\x01])")
_QR_DARK_RUN_RE = re.compile(rb"\x01+")


def qr_penalty(modules: list[list[bool]]) -> int:
    """reportlab's ``QRUtil.getLostPoint`` for one masked matrix, computed with
    C-speed bytes, regex and integer operations instead of Python loops over
    every module. It must score exactly as reportlab does so the same mask is
    chosen (a test compares the two); the scoring is what the QR specification
    uses to pick the mask that scanners read most reliably.
    """
    size = len(modules)
    rows = [bytes(row) for row in modules]
    columns = [bytes(column) for column in zip(*modules, strict=True)]
    score = 0
    # Rule 1: runs of five or more same-coloured modules in a row or column, each scoring its length - 2.
    runs = _QR_LONG_RUN_RE.findall(_QR_LINE_BREAK.join(itertools.chain(rows, columns)))
    score += sum(map(len, runs)) - 2 * len(runs)
    # Rule 2: 2x2 blocks of one colour (bit c of a row int is module c).
    full = (1 << size) - 1
    as_ints = [_bits(row) for row in rows]
    for upper, lower in itertools.pairwise(as_ints):
        same_vertical = ~(upper ^ lower) & full
        same_horizontal = ~(upper ^ (upper >> 1)) & (full >> 1)
        score += 3 * (same_vertical & (same_vertical >> 1) & same_horizontal).bit_count()
    # Rule 3: the finder-like pattern, scanned as reportlab does: one direction,
    # non-overlapping, never at the last possible position, and in rows only
    # (reportlab compares a column tuple with a list, which never matches).
    score += 40 * len(_QR_FINDER_LIKE_RE.findall(_QR_LINE_BREAK.join(rows)))
    # Rule 4: balance of dark and light modules.
    dark = sum(row.count(1) for row in rows)
    score += 10 * (abs(100 * dark // (size * size) - 50) // 5)
    return score


_BIT_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _bits(row: bytes) -> int:
    """A row of 0/1 module bytes as an int whose bit ``c`` is module ``c``."""
    return int(row[::-1].translate(_BIT_DIGITS), 2)


class QrCode(Flowable):
    """The verification URL as a QR code, encoded by reportlab's own ``QrCodeWidget``.

    Two things are done here rather than by the widget, both for the 50 ms
    render budget: choosing the mask (reportlab's pure-Python penalty scoring
    took ~10 ms; :func:`qr_penalty` scores identically in well under 1 ms)
    and drawing (the widget builds one validated shape object per run of dark
    modules; here they are one filled path, which also leaves no hairline
    seams between neighbouring modules in viewers).
    """

    # Quiet zone in modules, as the QR specification asks; the white square provides it.
    border = 4

    def __init__(self, value: str, *, size: float) -> None:
        super().__init__()
        self.value = value
        self.size = size
        self.widget = QrCodeWidget(value, barLevel="M", barWidth=size, barHeight=size, barBorder=self.border)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def modules(self) -> list[list[bool]]:
        """The final module matrix, with the mask reportlab's ``QRCode.make()`` would choose."""
        qr = self.widget.qr
        if qr.version is None:
            qr.version = qr.calculate_version()
        best_mask, best_score = 0, -1
        for mask in range(8):
            qr.makeImpl(True, mask)
            score = qr_penalty(qr.modules)
            # Strictly lower wins, so ties keep the first mask, as in reportlab.
            if best_score < 0 or score < best_score:
                best_mask, best_score = mask, score
        qr.makeImpl(False, best_mask)
        return [list(map(bool, row)) for row in qr.modules]

    def draw(self) -> None:
        modules = self.modules()
        module = self.size / (len(modules) + 2 * self.border)
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        path = canvas.beginPath()
        for row_index, row in enumerate(modules):
            y = self.size - (row_index + self.border + 1) * module
            # One rectangle per horizontal run of dark modules.
            for run in _QR_DARK_RUN_RE.finditer(bytes(row)):
                path.rect((run.start() + self.border) * module, y, (run.end() - run.start()) * module, module)
        canvas.setFillColor(colors.black)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.restoreState()
