from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from marketplace.models import Eligibility, Product
from marketplace.selectors import CatalogQuery, catalog_listing, catalog_products
from marketplace.services import merchant_suspend
from marketplace.tests.conftest import Catalog
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _names(params: dict[str, str], **kwargs: object) -> list[str]:
    return [p.name for p in catalog_products(CatalogQuery.from_params(params), **kwargs)]


def test_search_ranks_a_name_match_above_a_description_match() -> None:
    ProductFactory(name="Weighted Blanket", description="Helps with sleep; pairs with a cooling pillow.")
    ProductFactory(name="Cooling Pillow", description="A gel pillow.")

    assert connection.vendor == "postgresql"
    assert _names({"q": "cooling"}) == ["Cooling Pillow", "Weighted Blanket"]


def test_search_covers_merchant_and_category_names_and_ranks_them_between_name_and_description() -> None:
    rest = MerchantFactory(name="Restwell Labs")
    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    ProductFactory(name="Eye Mask", merchant=rest, description="Blocks light.")
    ProductFactory(name="Lavender Spray", description="For better sleep.")
    ProductFactory(name="Sleep Drops", description="Melatonin.")
    ProductFactory(name="Bed Wedge", category=sleep, description="Raises the head.")

    assert _names({"q": "restwell"}) == ["Eye Mask"]
    assert _names({"q": "sleep"}) == ["Sleep Drops", "Bed Wedge", "Lavender Spray"]


def test_search_matches_word_prefixes_and_stems() -> None:
    ProductFactory(name="Theragun Mini", description="Percussive massager.")
    ProductFactory(name="Running Shoes", description="Light.")

    assert _names({"q": "therag"}) == ["Theragun Mini"]
    assert _names({"q": "run"}) == ["Running Shoes"]
    assert _names({"q": "running shoe"}) == ["Running Shoes"]


@pytest.mark.parametrize("text", ["", "!!!", "& | :*", "a", "'); DROP TABLE x; --", "\x00", "<script>"])
def test_punctuation_and_injection_attempts_are_harmless(text: str) -> None:
    ProductFactory(name="Cooling Pillow")
    assert _names({"q": text}) == ([] if text.strip("\x00") else ["Cooling Pillow"])
    assert Product.objects.count() == 1


def test_sqlite_falls_back_to_icontains_with_name_matches_first(monkeypatch: pytest.MonkeyPatch) -> None:
    ProductFactory(name="Weighted Blanket", description="Pairs with a cooling pillow.")
    ProductFactory(name="Cooling Pillow", description="A gel pillow.")
    ProductFactory(name="Foam Roller", merchant=MerchantFactory(name="Coolant Recovery"), description="Dense foam.")
    ProductFactory(name="Dumbbells", description="Iron.")
    Product.objects.update(search_vector=None)  # SQLite has no search vectors at all

    monkeypatch.setattr(connection, "vendor", "sqlite")

    assert _names({"q": "cool"}) == ["Cooling Pillow", "Foam Roller", "Weighted Blanket"]
    assert _names({"q": "gel pillow"}) == ["Cooling Pillow"]
    assert _names({"q": "cool", "sort": "price_desc"}) != []


def test_filters_combine(catalog: Catalog) -> None:
    assert _names({"category": "skin-sun-care"}) == ["Mineral Sunscreen SPF 30"]
    assert _names({"merchant": "restwell-labs"}) == ["Cooling Sleep Pad", "Lavender Candle", "Sleep Tracking Ring"]
    assert _names({"eligibility": Eligibility.LMN_REQUIRED}) == ["Cooling Sleep Pad", "Sleep Tracking Ring"]
    assert _names({"min_price": "20", "max_price": "349"}) == [
        "Mineral Sunscreen SPF 30",
        "Sleep Tracking Ring",
    ]
    assert _names({"merchant": "restwell-labs", "max_price": "$1,000.00", "eligibility": "lmn_required"}) == [
        "Cooling Sleep Pad",
        "Sleep Tracking Ring",
    ]
    assert _names({"q": "sleep", "eligibility": "lmn_required", "min_price": "400"}) == ["Cooling Sleep Pad"]


def test_swapped_price_bounds_are_understood(catalog: Catalog) -> None:
    assert _names({"min_price": "349", "max_price": "20"}) == ["Mineral Sunscreen SPF 30", "Sleep Tracking Ring"]


def test_sorts(catalog: Catalog) -> None:
    assert _names({"sort": "price_asc"}) == [
        "Lavender Candle",
        "Mineral Sunscreen SPF 30",
        "Sleep Tracking Ring",
        "Cooling Sleep Pad",
    ]
    assert _names({"sort": "price_desc"})[0] == "Cooling Sleep Pad"
    assert _names({}) == sorted(_names({}))
    newest = ProductFactory(name="A Brand New Thing", merchant=catalog.restwell, category=catalog.sleep)
    assert _names({"sort": "newest"})[0] == newest.name
    # Relevance without a search falls back to name order.
    assert _names({"sort": "relevance"}) == _names({"sort": "name"})


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"min_price": "abc"}, CatalogQuery()),
        ({"max_price": "1e999"}, CatalogQuery()),
        ({"max_price": "NaN"}, CatalogQuery()),
        ({"min_price": "-5"}, CatalogQuery()),
        ({"min_price": "99999999999999"}, CatalogQuery()),
        ({"min_price": "12.5"}, CatalogQuery(min_cents=1250)),
        ({"max_price": "100000000"}, CatalogQuery(max_cents=10_000_000)),
        ({"eligibility": "free"}, CatalogQuery()),
        ({"sort": "name; drop"}, CatalogQuery()),
        ({"page": "²"}, CatalogQuery()),
        ({"page": "-1"}, CatalogQuery()),
        ({"page": "3"}, CatalogQuery(page="3")),
        ({"category": "../etc/passwd"}, CatalogQuery()),
        ({"q": "  sleep \x00 pad  "}, CatalogQuery(q="sleep pad")),
        ({"q": "x" * 500}, CatalogQuery(q="x" * 200)),
    ],
)
def test_malformed_parameters_are_dropped(params: dict[str, str], expected: CatalogQuery) -> None:
    assert CatalogQuery.from_params(params) == expected


def test_listing_ignores_unknown_category_and_merchant_slugs(catalog: Catalog) -> None:
    listing = catalog_listing({"category": "no-such-category", "merchant": "nobody"})
    assert listing.query.category == "" and listing.query.merchant == ""
    assert listing.page.paginator.count == 4


def test_listing_shows_the_last_page_for_a_page_past_the_end(catalog: Catalog) -> None:
    listing = catalog_listing({"page": "999"}, per_page=3)
    assert listing.page.number == 2
    assert [p.name for p in listing.page] == ["Sleep Tracking Ring"]


def test_only_active_products_of_active_merchants_are_listed(catalog: Catalog) -> None:
    catalog.ring.active = False
    catalog.ring.save()
    merchant_suspend(merchant=catalog.sunward)

    assert _names({}) == ["Cooling Sleep Pad", "Lavender Candle"]
    assert _names({"q": "sunscreen"}) == []


def test_chips_link_to_the_listing_without_that_filter(catalog: Catalog) -> None:
    listing = catalog_listing({"q": "sleep", "eligibility": "lmn_required", "max_price": "500"})
    chips = {chip.param: chip.remove_url for chip in listing.chips}
    assert chips["q"] == "?eligibility=lmn_required&max_price=500"
    assert chips["eligibility"] == "?q=sleep&max_price=500"
    assert chips["max_price"] == "?q=sleep&eligibility=lmn_required"


def test_a_page_and_its_total_come_from_one_query(make_products: Any, django_assert_num_queries: Any) -> None:
    make_products(50)
    with django_assert_num_queries(3):  # categories, brands, then the page with its total
        listing = catalog_listing({"page": "2"})
        rows = list(listing.page)
    assert listing.page.paginator.count == 50
    assert listing.page.paginator.num_pages == 3
    assert len(rows) == 24 and listing.page.start_index() == 25


def test_an_empty_search_and_a_page_past_the_end_still_paginate(make_products: Any) -> None:
    make_products(30)
    assert catalog_listing({"q": "nothing-like-this"}).page.paginator.count == 0
    past = catalog_listing({"page": "7"})
    assert (past.page.number, past.page.paginator.count, len(past.page)) == (2, 30, 6)


def test_the_category_strip_and_brand_filter_come_from_the_cache_until_ops_edit_them(
    catalog: Catalog, ops: Any, django_assert_num_queries: Any
) -> None:
    from marketplace.selectors import catalog_navigation
    from marketplace.services import category_save, merchant_activate

    categories, merchants = catalog_navigation()
    with django_assert_num_queries(0):
        assert catalog_navigation() == (categories, merchants)

    newcomer = MerchantFactory(name="Aardvark Wellness", status="applied")
    merchant_activate(merchant=newcomer, actor=ops)
    assert "Aardvark Wellness" in [m.name for m in catalog_navigation()[1]]

    merchant_suspend(merchant=newcomer, actor=ops)
    assert "Aardvark Wellness" not in [m.name for m in catalog_navigation()[1]]

    renamed = categories[0]
    renamed.name = "Renamed by ops"
    category_save(category=renamed, actor=ops)
    assert "Renamed by ops" in [c.name for c in catalog_navigation()[0]]


def test_a_broken_cache_never_aborts_the_transaction_saving_a_category(ops: Any, caplog: Any) -> None:
    from django.test import override_settings

    from marketplace.models import Category
    from marketplace.selectors import catalog_navigation
    from marketplace.services import category_save

    broken = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "no_such_table"}}
    with override_settings(CACHES=broken):
        category = category_save(category=CategoryFactory.build(name="Cold therapy", slug="cold-therapy"), actor=ops)
        names = [c.name for c in catalog_navigation()[0]]

    assert "Cold therapy" in names
    assert Category.objects.filter(pk=category.pk).exists()  # the transaction is still usable
    assert "Cache unavailable" in caplog.text
