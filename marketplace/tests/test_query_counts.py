"""A page's SQL query count does not grow with the catalog (DESIGN.md budgets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from marketplace.models import Category, Product
from marketplace.selectors import catalog_navigation_forget
from marketplace.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def _pages(category: Category, product: Product) -> dict[str, str]:
    return {
        "shop": "/shop/",
        "category": category.get_absolute_url(),
        "search": "/shop/?q=sleep&eligibility=lmn_required&sort=price_asc",
        "product": product.get_absolute_url(),
    }


def _count(client: Client, url: str) -> int:
    # Cold: the cached categories and brands are read from the database too (the worst case).
    catalog_navigation_forget()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["shop", "category", "search", "product"])
@pytest.mark.parametrize("signed_in", [False, True])
def test_query_count_is_the_same_with_10_and_1000_products(
    page: str,
    signed_in: bool,
    client: Client,
    shopper: User,
    make_products: Callable[..., list[Product]],
    django_assert_max_num_queries: Any,
) -> None:
    if signed_in:
        client.force_login(shopper)
    category = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    products = make_products(10, category=category, merchants=2)
    url = _pages(category, products[0])[page]
    client.get(url)  # warm up: content types, session
    small = _count(client, url)

    make_products(990, category=category, merchants=48, start=10)

    catalog_navigation_forget()
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    if page != "product":
        assert response.context["listing"].page.paginator.count >= 24
