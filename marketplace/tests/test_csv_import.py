from __future__ import annotations

import pytest

from accounts.models import AuditEvent
from marketplace.csv_io import parse_product_csv, products_to_csv
from marketplace.models import Eligibility, Product
from marketplace.services import CsvImportError, products_import_csv
from marketplace.tests.conftest import Catalog
from marketplace.tests.factories import make_gtin

pytestmark = pytest.mark.django_db

HEADER = "name,description,price,category,eligibility,gtin,url\n"
GOOD_ROWS = (
    f"Cooling Pillow,A gel pillow,129.00,sleep-home-wellness,lmn_required,{make_gtin(1)},https://restwell.example/pillow\n"
    f'"Zinc Sunscreen SPF 50","Broad spectrum, water resistant",$24.50,Skin & sun care,auto_substantiation,{make_gtin(2)},\n'
    "Sleep Journal,,12,Sleep & home wellness,not_eligible,,\n"
)


def test_a_valid_file_previews_every_row_without_saving(catalog: Catalog) -> None:
    preview = parse_product_csv(text=HEADER + GOOD_ROWS, merchant=catalog.restwell)

    assert preview.is_valid
    assert [(row.line, row.name, row.price_cents, row.action) for row in preview.rows] == [
        (2, "Cooling Pillow", 12_900, "create"),
        (3, "Zinc Sunscreen SPF 50", 2_450, "create"),
        (4, "Sleep Journal", 1_200, "create"),
    ]
    assert preview.rows[1].category == catalog.skin
    assert not Product.objects.filter(name="Cooling Pillow").exists()


def test_a_file_with_one_bad_row_of_each_kind_reports_them_by_line_and_saves_nothing(catalog: Catalog) -> None:
    text = (
        HEADER
        + GOOD_ROWS
        + "Bad Barcode,,19.99,skin-sun-care,auto_substantiation,4006381333932,\n"
        + "Negative Price,,-5.00,skin-sun-care,not_eligible,,\n"
        + "Mystery Item,,9.99,garden-tools,lmn_required,,\n"
    )
    before = Product.objects.count()

    preview = parse_product_csv(text=text, merchant=catalog.restwell)

    errors = {row.line: row.errors for row in preview.rows if row.errors}
    assert set(errors) == {5, 6, 7}
    assert "check digit" in errors[5][0]
    assert errors[6] == ["Price cannot be negative."]
    assert "Category “garden-tools” does not exist" in errors[7][0]
    assert not preview.is_valid

    with pytest.raises(CsvImportError) as excinfo:
        products_import_csv(merchant=catalog.restwell, text=text)
    assert excinfo.value.preview.error_count == 3
    assert Product.objects.count() == before
    assert not Product.objects.filter(name="Cooling Pillow").exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",,10,skin-sun-care,not_eligible,,", "Name is missing."),
        ("Thing,,abc,skin-sun-care,not_eligible,,", "is not an amount in dollars"),
        ("Thing,,0,skin-sun-care,not_eligible,,", "more than $0.00"),
        ("Thing,,1.999,skin-sun-care,not_eligible,,", "more than two decimal places"),
        ("Thing,,200000,skin-sun-care,not_eligible,,", "maximum"),
        ("Thing,,10,,not_eligible,,", "Category is missing."),
        ("Thing,,10,skin-sun-care,sometimes,,", "is not one of"),
        ("Thing,,10,skin-sun-care,auto_substantiation,,", "needs its GTIN"),
        ("Thing,,10,skin-sun-care,not_eligible,12345,", "8, 12, 13 or 14 digits"),
        ("Thing,,10,skin-sun-care,not_eligible,,ftp://example.com/x", "is not a web address"),
        ("Thing,,10,skin-sun-care,not_eligible,,javascript:alert(1)", "is not a web address"),
    ],
)
def test_each_kind_of_bad_value_is_explained(catalog: Catalog, row: str, message: str) -> None:
    preview = parse_product_csv(text=HEADER + row + "\n", merchant=catalog.restwell)
    assert not preview.is_valid
    assert message in " ".join(preview.rows[0].errors)
    assert preview.rows[0].line == 2


def test_duplicate_names_and_gtins_in_one_file_are_errors(catalog: Catalog) -> None:
    gtin = make_gtin(77)
    text = HEADER + f"Pillow,,10,skin-sun-care,not_eligible,{gtin},\npillow,,11,skin-sun-care,not_eligible,{gtin},\n"
    preview = parse_product_csv(text=text, merchant=catalog.restwell)
    assert preview.rows[1].errors == [
        "The name “pillow” is already used on line 2.",
        f"GTIN {gtin} is already used on line 2.",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty."),
        ("name,price\nThing,10\n", "the header lacks category, eligibility"),
        (HEADER, "no products"),
    ],
)
def test_file_level_problems(catalog: Catalog, text: str, message: str) -> None:
    preview = parse_product_csv(text=text, merchant=catalog.restwell)
    assert not preview.is_valid
    assert message in " ".join(preview.file_errors)


def test_line_numbers_count_quoted_multiline_cells(catalog: Catalog) -> None:
    text = (
        HEADER
        + '"Pillow","line one\nline two",10,skin-sun-care,not_eligible,,\nBroken,,x,skin-sun-care,not_eligible,,\n'
    )
    preview = parse_product_csv(text=text, merchant=catalog.restwell)
    assert [row.line for row in preview.rows] == [2, 4]


def test_a_valid_file_imports_every_row_creating_and_updating(catalog: Catalog, ops: object) -> None:
    text = HEADER + GOOD_ROWS + "Cooling Sleep Pad,Now quieter,599.00,sleep-home-wellness,lmn_required,,\n"

    result = products_import_csv(merchant=catalog.restwell, text=text, actor=ops)

    assert (result.created, result.updated) == (3, 1)
    pillow = Product.objects.get(name="Cooling Pillow")
    assert pillow.merchant == catalog.restwell and pillow.slug == "cooling-pillow"
    assert pillow.merchant_url == "https://restwell.example/pillow"
    assert Product.objects.get(name="Zinc Sunscreen SPF 50").eligibility == Eligibility.AUTO_SUBSTANTIATION
    catalog.pad.refresh_from_db()
    assert (catalog.pad.price_cents, catalog.pad.description) == (59_900, "Now quieter")
    assert Product.objects.filter(search_vector__isnull=True).count() == 0
    assert AuditEvent.objects.filter(action="product.csv_imported", object_id=str(catalog.restwell.pk)).exists()


def test_a_name_taken_by_another_merchant_gets_a_distinct_slug(catalog: Catalog) -> None:
    products_import_csv(merchant=catalog.sunward, text=HEADER + "Cooling Sleep Pad,,10,skin-sun-care,not_eligible,,\n")
    slugs = set(Product.objects.filter(name="Cooling Sleep Pad").values_list("slug", flat=True))
    assert slugs == {"cooling-sleep-pad", "sunward-skin-cooling-sleep-pad"}


def test_export_round_trips_through_import(catalog: Catalog) -> None:
    exported = products_to_csv(
        Product.objects.filter(merchant=catalog.restwell).select_related("merchant", "category").order_by("name")
    )
    assert exported.splitlines()[0] == "name,description,price,category,eligibility,gtin,url,merchant,active"
    assert "Cooling Sleep Pad,A water-cooled mattress pad.,649.00,sleep-home-wellness,lmn_required," in exported

    preview = parse_product_csv(text=exported, merchant=catalog.restwell)
    assert preview.is_valid and preview.update_count == 3 and preview.create_count == 0


def test_export_neutralises_spreadsheet_formulas(catalog: Catalog) -> None:
    catalog.candle.name = '=HYPERLINK("http://evil.example")'
    catalog.candle.save()
    exported = products_to_csv([catalog.candle])
    assert "'=HYPERLINK" in exported


@pytest.mark.parametrize("price", ["1e27", "99999999999999999999999999999.5", "1E+100000", "9E+999999"])
def test_an_absurdly_large_price_is_a_row_error_not_a_crash(catalog: Catalog, price: str) -> None:
    """Decimal's quantize() raises InvalidOperation (not ValueError) past 28 digits: the row must say why instead."""
    preview = parse_product_csv(
        text=HEADER + f"Thing,,{price},skin-sun-care,not_eligible,,\n", merchant=catalog.restwell
    )
    assert not preview.is_valid
    assert "maximum" in " ".join(preview.rows[0].errors)
