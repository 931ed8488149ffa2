"""Fixtures for the Flex Shop tests: a small catalog and a bulk product maker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pytest

from marketplace.models import Category, Eligibility, Merchant, MerchantStatus, Product
from marketplace.services import product_search_refresh
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory, make_gtin


@dataclass
class Catalog:
    sleep: Category
    skin: Category
    restwell: Merchant
    sunward: Merchant
    pad: Product
    sunscreen: Product
    candle: Product
    ring: Product


@pytest.fixture
def catalog(db: None) -> Catalog:
    """Two categories, two active merchants, one product of each eligibility class (and one more)."""
    sleep = CategoryFactory(name="Sleep & home wellness", slug="sleep-home-wellness", ordering=3)
    skin = CategoryFactory(name="Skin & sun care", slug="skin-sun-care", ordering=6)
    restwell = MerchantFactory(name="Restwell Labs", featured=True)
    sunward = MerchantFactory(name="Sunward Skin")
    # Three of the four products are Restwell's sleep products; each differs only in what it is.
    restwell_sleep = partial(ProductFactory, merchant=restwell, category=sleep)
    return Catalog(
        sleep=sleep,
        skin=skin,
        restwell=restwell,
        sunward=sunward,
        pad=restwell_sleep(
            name="Cooling Sleep Pad",
            price_cents=64_900,
            eligibility=Eligibility.LMN_REQUIRED,
            description="A water-cooled mattress pad.",
        ),
        sunscreen=ProductFactory(
            merchant=sunward,
            category=skin,
            name="Mineral Sunscreen SPF 30",
            price_cents=2_400,
            eligibility=Eligibility.AUTO_SUBSTANTIATION,
            description="Broad-spectrum zinc sunscreen.",
        ),
        candle=restwell_sleep(
            name="Lavender Candle",
            price_cents=1_800,
            eligibility=Eligibility.NOT_ELIGIBLE,
            gtin="",
            description="Scented soy wax.",
        ),
        ring=restwell_sleep(
            name="Sleep Tracking Ring",
            price_cents=34_900,
            eligibility=Eligibility.LMN_REQUIRED,
            description="Tracks sleep stages and resting heart rate.",
        ),
    )


@pytest.fixture
def make_products(db: None) -> Callable[..., list[Product]]:
    """Bulk-create ``n`` sellable products across a few merchants (fast enough for 1,000)."""

    def make(n: int, *, category: Category | None = None, merchants: int = 5, start: int = 0) -> list[Product]:
        category = category or CategoryFactory(name="Bulk category", slug="bulk-category")
        owners = [
            MerchantFactory(name=f"Bulk Merchant {start}-{i}", status=MerchantStatus.ACTIVE) for i in range(merchants)
        ]
        products = Product.objects.bulk_create(
            Product(
                merchant=owners[i % merchants],
                category=category,
                name=f"Bulk product {start + i:05d}",
                slug=f"bulk-product-{start + i:05d}",
                description="A product for sleep, recovery or fitness.",
                price_cents=1_000 + i,
                eligibility=(Eligibility.LMN_REQUIRED, Eligibility.AUTO_SUBSTANTIATION, Eligibility.NOT_ELIGIBLE)[
                    i % 3
                ],
                gtin=make_gtin(500_000 + start + i),
            )
            for i in range(n)
        )
        product_search_refresh(product_ids=[p.pk for p in products])
        return products

    return make
