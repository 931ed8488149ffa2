from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from marketplace.services import merchant_suspend
from marketplace.tests.conftest import Catalog

pytestmark = pytest.mark.django_db
SHOP = reverse("marketplace:shop")


@pytest.mark.parametrize("persona", [None, "shopper", "clinician", "ops"])
def test_shop_opens_for_everyone(
    request: pytest.FixtureRequest, client: Client, catalog: Catalog, persona: str | None
) -> None:
    if persona:
        client.force_login(request.getfixturevalue(persona))
    response = client.get(SHOP)
    assert response.status_code == 200
    assert "Cooling Sleep Pad" in response.content.decode()


def test_storefront_shows_search_categories_featured_merchants_and_product_cards(
    client: Client, catalog: Catalog
) -> None:
    html = client.get(SHOP).content.decode()

    assert 'type="search" name="q"' in html
    assert "Shop by category" in html and catalog.sleep.get_absolute_url() in html
    assert "Featured brands" in html and catalog.restwell.get_absolute_url() in html
    assert catalog.sunward.get_absolute_url() in html  # as the merchant of a product card
    assert "$649.00" in html
    assert "HSA/FSA-eligible" in html  # the sunscreen's badge
    assert "May be HSA/FSA-eligible" in html  # the pad's badge
    assert "Not HSA/FSA-eligible" in html  # the candle's badge
    assert "is eligible" not in html


def test_search_results_hide_the_storefront_and_show_a_removable_chip(client: Client, catalog: Catalog) -> None:
    response = client.get(SHOP, {"q": "sunscreen"})
    html = response.content.decode()

    assert [p.name for p in response.context["listing"].page] == ["Mineral Sunscreen SPF 30"]
    assert "Featured brands" not in html
    assert "Results for “sunscreen”" in html
    assert 'aria-label="Remove filter “sunscreen”"' in html


def test_no_results_page_helps(client: Client, catalog: Catalog) -> None:
    html = client.get(SHOP, {"q": "trampoline"}).content.decode()
    assert "Nothing matches “trampoline”" in html


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=0",
        "page=-4",
        "page=99999999999999999999",
        "min_price=abc&max_price=%24%24",
        "min_price=1e400",
        "sort=__class__",
        "eligibility=%00",
        "q=%00%00",
        "q=%27%29%3B--",
        "q=&category=&merchant=",
        "category=a/b",
        "merchant=%E2%98%83",
        "q=" + "long" * 500,
        "unknown=1&page=2&page=3",
    ],
)
def test_malformed_parameters_never_fail(client: Client, catalog: Catalog, query: str) -> None:
    assert client.get(f"{SHOP}?{query}").status_code == 200


def test_a_page_past_the_end_shows_the_last_page(client: Client, make_products: object) -> None:
    make_products(30)

    response = client.get(SHOP, {"page": "500"})

    page = response.context["listing"].page
    assert response.status_code == 200
    assert page.number == 2 and len(page) == 6
    assert "Page 2 of 2" in response.content.decode()


def test_pagination_links_keep_the_filters(client: Client, make_products: object) -> None:
    make_products(90)  # 30 of them need a letter
    html = client.get(SHOP, {"eligibility": "lmn_required", "max_price": "2000"}).content.decode()
    assert 'href="?eligibility=lmn_required&amp;max_price=2000&amp;page=2"' in html
    assert "Showing 1–24 of 30 products" in html


def test_suspending_a_merchant_hides_its_products_at_once(client: Client, catalog: Catalog) -> None:
    merchant_suspend(merchant=catalog.restwell)

    html = client.get(SHOP).content.decode()

    assert "Cooling Sleep Pad" not in html
    assert "Restwell Labs" not in html  # neither as a featured brand nor in the brand filter
    assert "Mineral Sunscreen SPF 30" in html
    assert client.get(SHOP, {"q": "cooling"}).context["listing"].page.paginator.count == 0


def test_inactive_products_are_not_shown(client: Client, catalog: Catalog) -> None:
    catalog.pad.active = False
    catalog.pad.save()
    assert "Cooling Sleep Pad" not in client.get(SHOP).content.decode()


def test_sort_and_filter_controls_are_present(client: Client, catalog: Catalog) -> None:
    html = client.get(SHOP, {"q": "sleep"}).content.decode()
    assert '<option value="relevance" selected>Best match</option>' in html
    assert 'name="min_price"' in html and 'name="max_price"' in html
    assert 'name="eligibility"' in html and 'name="merchant"' in html and 'name="category"' in html
    assert "<script>" not in html.split("</footer>")[0]  # no inline scripts (CSP)
