"""GET/POST /api/v1/products: a merchant keeps its catalog and eligibility in sync."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from marketplace.models import Eligibility, MerchantStatus, Product
from marketplace.selectors import CatalogQuery, catalog_products
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory, make_gtin
from payments.tests.merchant_api_support import ApiClient, error_of, new_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant_and_api(client: Client) -> tuple[Any, ApiClient]:
    CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness")
    merchant, secret = new_key(MerchantFactory(name="Oura Example"))
    return merchant, ApiClient(client, secret)


def _product(**fields: Any) -> dict[str, Any]:
    body = {
        "merchant_reference": "RING-GEN3",
        "name": "Smart Sleep Ring",
        "category": "sleep-home-wellness",
        "price_cents": 29_900,
        "eligibility": "lmn_required",
        "description": "Tracks sleep stages and temperature.",
        "url": "https://shop.example/ring",
    }
    body.update(fields)
    return body


def test_posting_a_new_reference_creates_a_sellable_product(merchant_and_api: Any) -> None:
    merchant, api = merchant_and_api
    response = api.post("/products", _product())
    assert response.status_code == 201
    body = response.json()
    product = Product.objects.get(pk=body["id"])
    assert (product.merchant, product.merchant_reference, product.price_cents) == (merchant, "RING-GEN3", 29_900)
    assert body["sellable"] is True and body["shop_url"] == f"https://flexlmn.test/shop/p/{product.slug}/"
    assert (body["eligibility"], body["category"], body["url"]) == (
        "lmn_required",
        "sleep-home-wellness",
        "https://shop.example/ring",
    )


def test_a_synced_product_is_found_by_the_shop_search(merchant_and_api: Any) -> None:
    _merchant, api = merchant_and_api
    api.post("/products", _product(name="Lumen Sleep Ring"))
    found = catalog_products(CatalogQuery.from_params({"q": "lumen"}))
    assert [p.name for p in found] == ["Lumen Sleep Ring"]


def test_posting_a_known_reference_updates_it(merchant_and_api: Any) -> None:
    _merchant, api = merchant_and_api
    created = api.post("/products", _product()).json()
    updated = api.post(
        "/products", _product(price_cents=27_900, eligibility="auto_substantiation", gtin=make_gtin(3), active=False)
    )
    assert updated.status_code == 200
    body = updated.json()
    assert body["id"] == created["id"]
    assert (body["price_cents"], body["eligibility"], body["active"], body["sellable"]) == (
        27_900,
        "auto_substantiation",
        False,
        False,
    )
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"eligibility": "auto_substantiation"}, "gtin", "parameter_invalid"),
        ({"gtin": "123"}, "gtin", "parameter_invalid"),
        ({"category": "gadgets"}, "category", "category_unknown"),
        ({"price_cents": 0}, "price_cents", "parameter_invalid"),
        ({"price_cents": 10_000_001}, "price_cents", "parameter_invalid"),
        ({"name": ""}, "name", "parameter_invalid"),
        ({"url": "not a url"}, "url", "parameter_invalid"),
        ({"eligibility": "eligible"}, "eligibility", "parameter_invalid"),
        ({"merchant_reference": None}, "merchant_reference", "parameter_invalid"),
        ({"active": "yes"}, "active", "parameter_invalid"),
    ],
)
def test_bad_products_answer_400_naming_the_field(
    merchant_and_api: Any, fields: dict[str, Any], param: str, code: str
) -> None:
    _merchant, api = merchant_and_api
    response = api.post("/products", _product(**fields))
    assert response.status_code == 400, response.json()
    assert (error_of(response)["param"], error_of(response)["code"]) == (param, code)
    assert not Product.objects.exists()


def test_a_merchant_lists_only_its_own_products(merchant_and_api: Any) -> None:
    merchant, api = merchant_and_api
    ProductFactory(merchant=MerchantFactory(), name="Someone else's")
    mine = ProductFactory(merchant=merchant, name="Mine", merchant_reference="")
    listed = api.get("/products").json()
    assert [p["id"] for p in listed["data"]] == [str(mine.pk)]
    assert listed["data"][0]["merchant_reference"] is None


def test_products_are_paginated_and_filtered(merchant_and_api: Any) -> None:
    merchant, api = merchant_and_api
    made = [ProductFactory(merchant=merchant, merchant_reference=f"SKU-{i}") for i in range(5)]
    auto = ProductFactory(merchant=merchant, eligibility=Eligibility.AUTO_SUBSTANTIATION, merchant_reference="AUTO")
    first = api.get("/products", {"limit": 4}).json()
    second = api.get("/products", {"limit": 4, "starting_after": first["next_starting_after"]}).json()
    assert first["has_more"] is True and second["has_more"] is False
    assert len({p["id"] for p in first["data"] + second["data"]}) == 6
    assert [p["id"] for p in api.get("/products", {"eligibility": "auto_substantiation"}).json()["data"]] == [
        str(auto.pk)
    ]
    assert api.get("/products", {"merchant_reference": "SKU-3"}).json()["data"][0]["id"] == str(made[3].pk)
    assert error_of(api.get("/products", {"starting_after": "nope"}))["param"] == "starting_after"


def test_a_suspended_merchants_products_are_not_sellable(client: Client) -> None:
    CategoryFactory(slug="sleep-home-wellness")
    _merchant, secret = new_key(MerchantFactory(status=MerchantStatus.SUSPENDED))
    body = ApiClient(client, secret).post("/products", _product()).json()
    assert (body["sellable"], body["shop_url"]) == (False, None)


def test_a_retried_upsert_with_its_key_is_replayed(merchant_and_api: Any) -> None:
    _merchant, api = merchant_and_api
    first = api.post("/products", _product(), idempotency_key="p-1")
    again = api.post("/products", _product(), idempotency_key="p-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
