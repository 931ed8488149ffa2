from __future__ import annotations

from typing import Any

import factory
from django.utils.text import slugify

from marketplace.models import Category, Eligibility, Merchant, MerchantStatus, Product
from marketplace.validators import gtin_check_digit


def make_gtin(n: int) -> str:
    """A valid GTIN-13 built from a sequence number."""
    body = f"{860000000000 + n:012d}"
    return body + str(gtin_check_digit(body))


class MerchantFactory(factory.django.DjangoModelFactory[Merchant]):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Merchant {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    website = factory.LazyAttribute(lambda o: f"https://{o.slug}.example")
    description = "Makes things that help people feel better."
    contact_email = factory.LazyAttribute(lambda o: f"partners@{o.slug}.example")
    status = MerchantStatus.ACTIVE


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    description = "Products for a healthier life."


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda o: slugify(o.name))
    description = "A product that may help with a diagnosed condition."
    price_cents = 12_900
    eligibility = Eligibility.LMN_REQUIRED
    gtin = factory.Sequence(make_gtin)
    merchant_url = factory.LazyAttribute(lambda o: f"https://shop.example/{o.slug}")
    active = True

    @factory.post_generation
    def refresh_search_vector(obj: Product, create: bool, extracted: Any, **kwargs: Any) -> None:
        """Like products saved through marketplace.services, a factory product is searchable."""
        if create:
            from marketplace.services import product_search_refresh

            product_search_refresh(product_ids=[obj.pk])
