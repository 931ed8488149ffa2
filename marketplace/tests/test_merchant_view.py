from __future__ import annotations

import pytest
from django.test import Client

from marketplace.models import MerchantStatus
from marketplace.services import merchant_suspend
from marketplace.tests.conftest import Catalog
from marketplace.tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", [None, "shopper"])
def test_merchant_page_shows_the_brand_and_its_products(
    request: pytest.FixtureRequest, client: Client, catalog: Catalog, persona: str | None
) -> None:
    if persona:
        client.force_login(request.getfixturevalue(persona))
    response = client.get(catalog.restwell.get_absolute_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert "Restwell Labs" in html and catalog.restwell.website in html
    assert [p.name for p in response.context["listing"].page] == [
        "Cooling Sleep Pad",
        "Lavender Candle",
        "Sleep Tracking Ring",
    ]
    assert 'name="merchant"' not in html


def test_merchant_page_filters_by_category_and_eligibility(client: Client, catalog: Catalog) -> None:
    response = client.get(catalog.restwell.get_absolute_url(), {"eligibility": "not_eligible"})
    assert [p.name for p in response.context["listing"].page] == ["Lavender Candle"]


def test_suspended_or_applied_merchants_have_no_page(client: Client, catalog: Catalog) -> None:
    merchant_suspend(merchant=catalog.restwell)
    applicant = MerchantFactory(name="Hopeful Co", status=MerchantStatus.APPLIED)

    assert client.get(catalog.restwell.get_absolute_url()).status_code == 404
    assert client.get(applicant.get_absolute_url()).status_code == 404
    assert client.get("/shop/m/nobody-at-all/").status_code == 404


def test_merchant_logo_is_served_only_when_there_is_one(client: Client, catalog: Catalog) -> None:
    assert client.get(f"/shop/m/{catalog.restwell.slug}/logo/").status_code == 404
