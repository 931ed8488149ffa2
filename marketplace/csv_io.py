"""Product CSV files: parse and validate an upload row by row, and export.

Columns: name, description, price (dollars, e.g. ``129.00``), category (name or
slug), eligibility (``auto_substantiation`` | ``lmn_required`` |
``not_eligible``), gtin, url. Extra columns (such as ``merchant`` and
``active`` in an export) are ignored on import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .models import MAX_PRICE_CENTS, Category, Eligibility, Merchant, Product
from .templatetags.marketplace_tags import usd
from .validators import validate_gtin

CSV_COLUMNS = ("name", "description", "price", "category", "eligibility", "gtin", "url")
EXPORT_COLUMNS = (*CSV_COLUMNS, "merchant", "active")
REQUIRED_COLUMNS = ("name", "price", "category", "eligibility")
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_CSV_ROWS = 5_000

_ELIGIBILITY_ALIASES = {
    "auto_substantiation": Eligibility.AUTO_SUBSTANTIATION,
    "auto_substantiated": Eligibility.AUTO_SUBSTANTIATION,
    "auto": Eligibility.AUTO_SUBSTANTIATION,
    "iias": Eligibility.AUTO_SUBSTANTIATION,
    "lmn_required": Eligibility.LMN_REQUIRED,
    "lmn": Eligibility.LMN_REQUIRED,
    "not_eligible": Eligibility.NOT_ELIGIBLE,
    "ineligible": Eligibility.NOT_ELIGIBLE,
}
_url_validator = URLValidator(schemes=["http", "https"])


class CsvFileError(Exception):
    """The upload cannot be read as a CSV file at all."""


@dataclass
class ProductRow:
    line: int
    name: str = ""
    description: str = ""
    price_cents: int | None = None
    category: Category | None = None
    eligibility: str = ""
    gtin: str = ""
    url: str = ""
    existing: Product | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        return "update" if self.existing is not None else "create"

    @property
    def price_display(self) -> str:
        return "" if self.price_cents is None else usd(self.price_cents)


@dataclass
class CsvPreview:
    merchant: Merchant
    rows: list[ProductRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return len(self.file_errors) + sum(len(row.errors) for row in self.rows)

    @property
    def rows_with_errors(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and self.error_count == 0

    @property
    def create_count(self) -> int:
        return sum(1 for row in self.rows if row.existing is None)

    @property
    def update_count(self) -> int:
        return sum(1 for row in self.rows if row.existing is not None)


def decode_csv_upload(data: bytes) -> str:
    if len(data) > MAX_CSV_BYTES:
        raise CsvFileError(f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; split it into smaller files.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFileError("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.") from exc


def parse_price_cents(raw: str) -> int:
    """``"129.00"``, ``"$1,299"`` → cents; raises ``ValueError`` with a message for the preview."""
    text = raw.strip().replace("$", "", 1).replace(",", "").strip()
    if not text:
        raise ValueError("Price is missing.")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"Price “{raw.strip()}” is not an amount in dollars such as 129.00.") from exc
    if not amount.is_finite():
        raise ValueError(f"Price “{raw.strip()}” is not an amount in dollars such as 129.00.")
    if amount < 0:
        raise ValueError("Price cannot be negative.")
    if amount == 0:
        raise ValueError("Price must be more than $0.00.")
    # Before quantize(), which raises InvalidOperation (not ValueError) for numbers past 28 digits.
    if amount > Decimal(MAX_PRICE_CENTS) / 100:
        raise ValueError(f"Price is above the ${MAX_PRICE_CENTS // 100:,} maximum.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Price has more than two decimal places.")
    return int(amount * 100)


def parse_eligibility(raw: str) -> str:
    key = raw.strip().lower().replace("-", "_").replace(" ", "_")
    if key in _ELIGIBILITY_ALIASES:
        return str(_ELIGIBILITY_ALIASES[key])
    allowed = ", ".join(Eligibility.values)
    if not key:
        raise ValueError(f"Eligibility is missing (one of {allowed}).")
    raise ValueError(f"Eligibility “{raw.strip()}” is not one of {allowed}.")


def _cell(record: list[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    return record[index].strip()


def parse_product_csv(*, text: str, merchant: Merchant) -> CsvPreview:
    """Validate every row of a merchant's product CSV; nothing is written."""
    preview = CsvPreview(merchant=merchant)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        preview.file_errors.append("The file is empty.")
        return preview
    except csv.Error as exc:
        preview.file_errors.append(f"Line 1: the header cannot be read ({exc}).")
        return preview
    columns = {name.strip().lower(): index for index, name in enumerate(header)}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        preview.file_errors.append(
            f"Line 1: the header lacks {', '.join(missing)}. Expected columns: {', '.join(CSV_COLUMNS)}."
        )
        return preview

    categories: dict[str, Category] = {}
    for category in Category.objects.all():
        categories[category.slug.lower()] = category
        categories[category.name.lower()] = category
    existing = {product.name.lower(): product for product in Product.objects.filter(merchant=merchant)}
    seen_names: dict[str, int] = {}
    seen_gtins: dict[str, int] = {}

    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            preview.file_errors.append(f"Line {line}: this row cannot be read ({exc}).")
            break
        if not any(cell.strip() for cell in record):
            continue
        if len(preview.rows) >= MAX_CSV_ROWS:
            preview.file_errors.append(
                f"The file has more than {MAX_CSV_ROWS:,} products; split it into smaller files."
            )
            break
        preview.rows.append(
            _parse_row(
                line=line,
                values={name: _cell(record, columns.get(name)) for name in CSV_COLUMNS},
                categories=categories,
                existing=existing,
                seen_names=seen_names,
                seen_gtins=seen_gtins,
            )
        )
    if not preview.rows and not preview.file_errors:
        preview.file_errors.append("The file has a header but no products.")
    return preview


def _parse_row(
    *,
    line: int,
    values: dict[str, str],
    categories: dict[str, Category],
    existing: dict[str, Product],
    seen_names: dict[str, int],
    seen_gtins: dict[str, int],
) -> ProductRow:
    row = ProductRow(line=line, name=values["name"], description=values["description"], url=values["url"])
    if not row.name:
        row.errors.append("Name is missing.")
    elif len(row.name) > 200:
        row.errors.append("Name is longer than 200 characters.")
    else:
        key = row.name.lower()
        if key in seen_names:
            row.errors.append(f"The name “{row.name}” is already used on line {seen_names[key]}.")
        else:
            seen_names[key] = line
        row.existing = existing.get(key)

    try:
        row.price_cents = parse_price_cents(values["price"])
    except ValueError as exc:
        row.errors.append(str(exc))

    raw_category = values["category"]
    row.category = categories.get(raw_category.lower()) if raw_category else None
    if not raw_category:
        row.errors.append("Category is missing.")
    elif row.category is None:
        row.errors.append(f"Category “{raw_category}” does not exist (use a category's name or slug).")

    try:
        row.eligibility = parse_eligibility(values["eligibility"])
    except ValueError as exc:
        row.errors.append(str(exc))

    row.gtin = values["gtin"].replace(" ", "").replace("-", "")
    if row.gtin:
        try:
            validate_gtin(row.gtin)
        except ValidationError as exc:
            row.errors.append(f"GTIN “{values['gtin']}”: {' '.join(exc.messages)}")
        else:
            if row.gtin in seen_gtins:
                row.errors.append(f"GTIN {row.gtin} is already used on line {seen_gtins[row.gtin]}.")
            else:
                seen_gtins[row.gtin] = line
    elif row.eligibility == Eligibility.AUTO_SUBSTANTIATION:
        row.errors.append("An auto-substantiated product needs its GTIN (from the IIAS list).")

    if row.url:
        try:
            _url_validator(row.url)
        except ValidationError:
            row.errors.append(f"URL “{row.url}” is not a web address starting with https://.")
        else:
            if len(row.url) > 200:
                row.errors.append("URL is longer than 200 characters.")
    return row


def products_to_csv(products: Iterable[Product]) -> str:
    """The export: the import columns, plus merchant and active (ignored on import)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for product in products:
        writer.writerow(
            [
                _safe_cell(product.name),
                _safe_cell(product.description),
                f"{product.price_cents / 100:.2f}",
                product.category.slug,
                product.eligibility,
                product.gtin,
                product.merchant_url,
                _safe_cell(product.merchant.name),
                "yes" if product.active else "no",
            ]
        )
    return buffer.getvalue()


def _safe_cell(value: str) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheets (CSV injection).
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
