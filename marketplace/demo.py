"""The Flex Shop demo catalog for ``seed_demo``.

Merchants are the brands the product article names; every product name,
description and price here is made up for this project. GTINs come from the
GS1 restricted-circulation range (prefix 20), so none belongs to a real item,
and each carries a valid check digit.
"""

from __future__ import annotations

from typing import TextIO

from django.db import transaction
from django.utils.text import slugify

from .demo_catalog import APPLICANT, CATEGORIES, MERCHANTS, DemoMerchant, demo_gtin
from .models import Category, Merchant, Product
from .services import product_search_refresh

__all__ = ["CATEGORIES", "seed"]


def _website(merchant: DemoMerchant) -> str:
    return f"https://www.{slugify(merchant.name)}.example"


@transaction.atomic
def seed(stdout: TextIO) -> None:
    """Create the demo catalog once; later runs change nothing."""
    categories: dict[str, Category] = {}
    for ordering, (slug, name, description) in enumerate(CATEGORIES, start=1):
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            category = Category.objects.create(slug=slug, name=name, description=description, ordering=ordering)
        categories[slug] = category

    created: list[object] = []
    product_count = 0
    for demo in (*MERCHANTS, APPLICANT):
        slug = slugify(demo.name)
        merchant = Merchant.objects.filter(slug=slug).first()
        if merchant is None:
            merchant = Merchant.objects.create(
                name=demo.name,
                slug=slug,
                website=_website(demo),
                description=demo.description,
                contact_email=f"partners@{slug}.example",
                contact_name="Partner team",
                status=demo.status,
                featured=demo.featured,
            )
        for item in demo.products:
            product_count += 1
            product_slug = slugify(item.name)
            if Product.objects.filter(slug=product_slug).exists():
                continue
            product = Product(
                merchant=merchant,
                category=categories[item.category],
                name=item.name,
                slug=product_slug,
                description=item.description,
                price_cents=item.price_cents,
                eligibility=item.eligibility,
                gtin=demo_gtin(item.gtin_seq) if item.gtin_seq else "",
                merchant_url=f"{_website(demo)}/products/{product_slug}",
            )
            product.full_clean()
            product.save()
            created.append(product.pk)
    product_search_refresh(product_ids=created)
    stdout.write(
        f"Flex Shop: {len(CATEGORIES)} categories, {len(MERCHANTS)} merchants "
        f"({sum(1 for m in MERCHANTS if m.featured)} featured) and {product_count} products, "
        f"plus 1 merchant application to review."
    )
