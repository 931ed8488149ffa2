from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent, User
from marketplace.models import Eligibility, Product
from marketplace.services import (
    category_save,
    product_create,
    product_search_refresh,
    product_update,
    products_set_active,
    products_set_eligibility,
)
from marketplace.tests.conftest import Catalog

pytestmark = pytest.mark.django_db


def test_product_create_validates_makes_a_slug_indexes_and_audits(catalog: Catalog, ops: User) -> None:
    product = product_create(
        merchant=catalog.sunward,
        category=catalog.skin,
        name="After-Sun Gel",
        price_cents=1_500,
        eligibility=Eligibility.NOT_ELIGIBLE,
        description="Aloe.",
        actor=ops,
    )

    assert product.slug == "after-sun-gel"
    assert Product.objects.filter(search_vector="aloe").get() == product
    event = AuditEvent.objects.get(action="product.created", object_id=str(product.pk))
    assert event.actor == ops and event.extra == {"eligibility": "not_eligible", "active": True}


def test_product_create_refuses_an_auto_substantiated_product_without_a_gtin(catalog: Catalog) -> None:
    with pytest.raises(ValidationError):
        product_create(
            merchant=catalog.sunward,
            category=catalog.skin,
            name="Nameless Sunscreen",
            price_cents=1_000,
            eligibility=Eligibility.AUTO_SUBSTANTIATION,
        )
    assert not Product.objects.filter(name="Nameless Sunscreen").exists()


def test_a_taken_name_gets_a_merchant_prefixed_slug(catalog: Catalog) -> None:
    product = product_create(
        merchant=catalog.sunward,
        category=catalog.skin,
        name="Cooling Sleep Pad",
        price_cents=100,
        eligibility="not_eligible",
    )
    assert product.slug == "sunward-skin-cooling-sleep-pad"


def test_product_update_reindexes_and_records_the_eligibility_change(catalog: Catalog) -> None:
    product_update(
        product=catalog.pad,
        changes={"name": "Hydro Cooling Mattress Topper", "eligibility": Eligibility.NOT_ELIGIBLE},
    )

    assert Product.objects.filter(search_vector="topper").get() == catalog.pad
    event = AuditEvent.objects.get(action="product.updated", object_id=str(catalog.pad.pk))
    assert event.extra["previous_eligibility"] == "lmn_required"
    with pytest.raises(ValueError, match="merchant"):
        product_update(product=catalog.pad, changes={"merchant": catalog.sunward})


def test_renaming_a_category_reindexes_its_products(catalog: Catalog) -> None:
    catalog.skin.name = "Dermatology"
    category_save(category=catalog.skin)
    assert [p.name for p in Product.objects.filter(search_vector="dermatology")] == ["Mineral Sunscreen SPF 30"]


def test_bulk_eligibility_skips_products_without_gtin_for_auto_substantiation(catalog: Catalog) -> None:
    result = products_set_eligibility(
        products=Product.objects.filter(pk__in=[catalog.pad.pk, catalog.candle.pk, catalog.sunscreen.pk]),
        eligibility=Eligibility.AUTO_SUBSTANTIATION,
    )

    assert result.changed == 1  # the sunscreen already was
    assert result.skipped_without_gtin == ["Lavender Candle"]
    with pytest.raises(ValueError):
        products_set_eligibility(products=Product.objects.all(), eligibility="sometimes")


def test_bulk_active_flag(catalog: Catalog) -> None:
    assert products_set_active(products=Product.objects.filter(pk=catalog.pad.pk), active=False) == 1
    assert products_set_active(products=Product.objects.filter(pk=catalog.pad.pk), active=False) == 0
    assert AuditEvent.objects.filter(action="product.deactivated").count() == 1


def test_search_refresh_of_everything_fills_missing_vectors(catalog: Catalog) -> None:
    Product.objects.update(search_vector=None)
    assert product_search_refresh() == 4
    assert Product.objects.filter(search_vector__isnull=True).count() == 0
