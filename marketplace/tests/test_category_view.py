from __future__ import annotations

import pytest
from django.test import Client

from marketplace.services import merchant_suspend
from marketplace.tests.conftest import Catalog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", [None, "shopper"])
def test_category_page_lists_only_its_products(
    request: pytest.FixtureRequest, client: Client, catalog: Catalog, persona: str | None
) -> None:
    if persona:
        client.force_login(request.getfixturevalue(persona))
    response = client.get(catalog.sleep.get_absolute_url())
    names = [p.name for p in response.context["listing"].page]

    assert response.status_code == 200
    assert names == ["Cooling Sleep Pad", "Lavender Candle", "Sleep Tracking Ring"]
    html = response.content.decode()
    assert "<h1" in html and "Sleep &amp; home wellness" in html
    assert 'name="category"' not in html  # the page's category is fixed


def test_category_page_search_and_filters_stay_inside_the_category(client: Client, catalog: Catalog) -> None:
    response = client.get(catalog.sleep.get_absolute_url(), {"q": "spf", "eligibility": "auto_substantiation"})
    assert response.context["listing"].page.paginator.count == 0
    response = client.get(catalog.sleep.get_absolute_url(), {"eligibility": "lmn_required", "sort": "price_desc"})
    assert [p.name for p in response.context["listing"].page] == ["Cooling Sleep Pad", "Sleep Tracking Ring"]


def test_unknown_category_is_404(client: Client, catalog: Catalog) -> None:
    assert client.get("/shop/c/no-such-thing/").status_code == 404


def test_category_page_hides_suspended_merchants_products(client: Client, catalog: Catalog) -> None:
    merchant_suspend(merchant=catalog.restwell)
    assert client.get(catalog.sleep.get_absolute_url()).context["listing"].page.paginator.count == 0


def test_malformed_parameters_on_category_page(client: Client, catalog: Catalog) -> None:
    response = client.get(catalog.sleep.get_absolute_url() + "?page=x&min_price=-&sort=zzz&q=%00")
    assert response.status_code == 200
