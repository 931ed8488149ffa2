from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEvent, User
from marketplace.models import Eligibility, Product
from marketplace.tests.conftest import Catalog
from marketplace.tests.factories import make_gtin

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:marketplace_product_changelist")
IMPORT = reverse("admin:marketplace_product_import_csv")
EXPORT = reverse("admin:marketplace_product_export_csv")
HEADER = "name,description,price,category,eligibility,gtin,url\n"


@pytest.fixture
def ops_client(client: Client, ops: User) -> Client:
    client.force_login(ops)
    return client


def _upload(client: Client, merchant: object, text: str) -> object:
    return client.post(
        IMPORT,
        {"merchant": str(merchant.pk), "file": SimpleUploadedFile("products.csv", text.encode(), "text/csv")},
    )


def test_changelist_filters_and_search(ops_client: Client, catalog: Catalog) -> None:
    response = ops_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Import CSV" in html and "Export CSV" in html and "$649.00" in html

    by_merchant = ops_client.get(CHANGELIST, {"merchant__id__exact": str(catalog.sunward.pk)})
    assert [p.name for p in by_merchant.context["cl"].result_list] == ["Mineral Sunscreen SPF 30"]
    by_eligibility = ops_client.get(CHANGELIST, {"eligibility__exact": "not_eligible"})
    assert [p.name for p in by_eligibility.context["cl"].result_list] == ["Lavender Candle"]
    by_category = ops_client.get(CHANGELIST, {"category__id__exact": str(catalog.skin.pk)})
    assert [p.name for p in by_category.context["cl"].result_list] == ["Mineral Sunscreen SPF 30"]
    searched = ops_client.get(CHANGELIST, {"q": catalog.sunscreen.gtin})
    assert [p.name for p in searched.context["cl"].result_list] == ["Mineral Sunscreen SPF 30"]


def test_bulk_eligibility_action_changes_and_audits_but_skips_products_without_gtin(
    ops_client: Client, catalog: Catalog
) -> None:
    response = ops_client.post(
        CHANGELIST,
        {"action": "set_auto_substantiation", "_selected_action": [str(catalog.pad.pk), str(catalog.candle.pk)]},
        follow=True,
    )

    catalog.pad.refresh_from_db()
    catalog.candle.refresh_from_db()
    assert catalog.pad.eligibility == Eligibility.AUTO_SUBSTANTIATION
    assert catalog.candle.eligibility == Eligibility.NOT_ELIGIBLE  # no GTIN
    html = response.content.decode()
    assert (
        "1 product(s) set to" in html
        and "Skipped (an auto-substantiated product needs a GTIN): Lavender Candle" in html
    )
    event = AuditEvent.objects.get(action="product.eligibility_changed", object_id=str(catalog.pad.pk))
    assert event.extra == {"from": "lmn_required", "to": "auto_substantiation"}


def test_deactivate_action_hides_products(ops_client: Client, catalog: Catalog) -> None:
    ops_client.post(CHANGELIST, {"action": "deactivate_products", "_selected_action": [str(catalog.pad.pk)]})
    catalog.pad.refresh_from_db()
    assert not catalog.pad.active
    assert Client().get(catalog.pad.get_absolute_url()).status_code == 404


def test_adding_a_product_takes_dollars_and_makes_a_searchable_slugged_product(
    ops_client: Client, catalog: Catalog
) -> None:
    response = ops_client.post(
        reverse("admin:marketplace_product_add"),
        {
            "merchant": str(catalog.sunward.pk),
            "category": str(catalog.skin.pk),
            "name": "Tinted Sunscreen SPF 40",
            "slug": "",
            "description": "Sheer tint.",
            "price": "31.50",
            "active": "on",
            "eligibility": "auto_substantiation",
            "gtin": make_gtin(9001),
            "merchant_url": "sunward.example/tinted",
            "merchant_reference": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    product = Product.objects.get(name="Tinted Sunscreen SPF 40")
    assert (product.slug, product.price_cents) == ("tinted-sunscreen-spf-40", 3_150)
    assert product.merchant_url == "https://sunward.example/tinted"
    assert Product.objects.filter(search_vector="tinted").get() == product
    assert AuditEvent.objects.filter(action="product.created", object_id=str(product.pk)).exists()


def test_auto_substantiated_product_needs_a_valid_gtin_in_the_admin(ops_client: Client, catalog: Catalog) -> None:
    response = ops_client.post(
        reverse("admin:marketplace_product_add"),
        {
            "merchant": str(catalog.sunward.pk),
            "category": str(catalog.skin.pk),
            "name": "Cheap Sunscreen",
            "price": "9.00",
            "active": "on",
            "eligibility": "auto_substantiation",
            "gtin": "4006381333932",
        },
    )
    assert response.status_code == 200
    assert "check digit" in response.content.decode()
    assert not Product.objects.filter(name="Cheap Sunscreen").exists()


def test_csv_import_preview_then_confirm_imports_all_rows(ops_client: Client, catalog: Catalog) -> None:
    assert ops_client.get(IMPORT, {"merchant": str(catalog.sunward.pk)}).status_code == 200
    text = HEADER + (
        f"Zinc Stick SPF 50,,14.00,skin-sun-care,auto_substantiation,{make_gtin(8001)},\n"
        "Beach Towel,,25,skin-sun-care,not_eligible,,\n"
    )

    preview = _upload(ops_client, catalog.sunward, text)

    html = preview.content.decode()
    assert preview.status_code == 200
    assert "All 2 rows are valid" in html and 'value="Import 2 products"' in html
    assert not Product.objects.filter(name="Beach Towel").exists()
    payload = re.search(r'name="payload" value="([^"]+)"', html)
    assert payload is not None

    done = ops_client.post(IMPORT, {"payload": payload.group(1)})

    assert done.status_code == 302
    assert done["Location"] == f"{CHANGELIST}?merchant__id__exact={catalog.sunward.pk}"
    assert set(Product.objects.filter(merchant=catalog.sunward).values_list("name", flat=True)) == {
        "Mineral Sunscreen SPF 30",
        "Zinc Stick SPF 50",
        "Beach Towel",
    }


def test_csv_import_with_one_bad_row_lists_errors_by_line_and_offers_no_import(
    ops_client: Client, catalog: Catalog
) -> None:
    text = HEADER + (
        f"Zinc Stick SPF 50,,14.00,skin-sun-care,auto_substantiation,{make_gtin(8001)},\n"
        "Bad Barcode,,9.00,skin-sun-care,auto_substantiation,123456789013,\n"
        "Refund Me,,-3,skin-sun-care,not_eligible,,\n"
        "Mystery,,5,garden,not_eligible,,\n"
    )
    before = Product.objects.count()

    preview = _upload(ops_client, catalog.sunward, text)

    html = preview.content.decode()
    assert "3 errors in 3 of 4 rows" in html
    assert "Line 3: GTIN" in html and "Line 4: Price cannot be negative." in html
    assert "Line 5: Category “garden” does not exist" in html
    assert 'name="payload"' not in html
    assert Product.objects.count() == before


def test_a_tampered_confirmation_imports_nothing(ops_client: Client, catalog: Catalog) -> None:
    response = ops_client.post(IMPORT, {"payload": "not-signed"}, follow=True)
    assert "That preview has expired" in response.content.decode()


def test_a_non_utf8_upload_is_explained(ops_client: Client, catalog: Catalog) -> None:
    response = ops_client.post(
        IMPORT,
        {"merchant": str(catalog.sunward.pk), "file": SimpleUploadedFile("p.csv", "name,é".encode("latin-1"))},
    )
    assert response.status_code == 200
    assert "not UTF-8" in response.content.decode()


def test_export_follows_the_changelist_filters(ops_client: Client, catalog: Catalog) -> None:
    response = ops_client.get(EXPORT, {"merchant__id__exact": str(catalog.restwell.pk)})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("name,description,price,category,eligibility,gtin,url")
    assert [line.split(",")[0] for line in lines[1:]] == ["Cooling Sleep Pad", "Lavender Candle", "Sleep Tracking Ring"]


def test_export_selected_action(ops_client: Client, catalog: Catalog) -> None:
    response = ops_client.post(
        CHANGELIST, {"action": "export_selected_csv", "_selected_action": [str(catalog.sunscreen.pk)]}
    )
    assert response.status_code == 200
    assert response.content.decode().splitlines()[1].startswith("Mineral Sunscreen SPF 30,")


def test_shoppers_cannot_import_or_export(client: Client, shopper: User) -> None:
    client.force_login(shopper)
    assert client.get(IMPORT).status_code in (302, 403)
    assert client.get(EXPORT).status_code in (302, 403)
