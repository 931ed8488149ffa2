from __future__ import annotations

from io import StringIO

import pytest
from django.test import Client

from marketplace import demo
from marketplace.models import Category, Eligibility, Merchant, MerchantStatus, Product
from marketplace.validators import is_valid_gtin

pytestmark = pytest.mark.django_db

ARTICLE_MERCHANTS = {
    "iFit", "PowerBlock", "Tempo", "YourReformer", "FitBod", "CalmiGo", "Wellspring Meds", "AND/life", "Rootless",
    "Saltivate", "Ozlo Sleep", "SleepMe", "BedJet", "Pulsetto", "HostageTape", "Forme", "Oya", "Andiem", "FitMyFoot",
    "Ribcap", "TubbyTodd", "Kindred Bravely", "Cradlewise", "Milkify", "Every Mother", "Therabody",
    "Alo Wellness Club", "Oura Ring", "Shiseido", "Dermstore", "SunShield+",
}  # fmt: skip


def _snapshot() -> tuple[int, int, int, list[tuple[str, str]]]:
    return (
        Category.objects.count(),
        Merchant.objects.count(),
        Product.objects.count(),
        list(Product.objects.order_by("slug").values_list("slug", "updated_at")),
    )


def test_seed_loads_the_articles_catalog() -> None:
    out = StringIO()
    demo.seed(out)

    assert list(Category.objects.values_list("name", flat=True)) == [
        "Fitness & exercise",
        "Nutrition & supplements",
        "Sleep & home wellness",
        "Clothing & footwear",
        "Mom, baby & child",
        "Skin & sun care",
        "Recovery & pain relief",
    ]
    active = Merchant.objects.filter(status=MerchantStatus.ACTIVE)
    assert set(active.values_list("name", flat=True)) == ARTICLE_MERCHANTS
    for merchant in active:
        assert 2 <= merchant.products.count() <= 4, merchant.name
    assert Merchant.objects.filter(featured=True).count() >= 4
    assert Merchant.objects.filter(status=MerchantStatus.APPLIED).count() == 1
    assert "31 merchants" in out.getvalue()


def test_every_gtin_is_valid_and_auto_substantiated_items_have_one() -> None:
    demo.seed(StringIO())
    for product in Product.objects.all():
        assert product.gtin == "" or is_valid_gtin(product.gtin), product.name
        if product.eligibility == Eligibility.AUTO_SUBSTANTIATION:
            assert product.gtin, product.name
        product.full_clean()


def test_the_eligibility_mix_is_realistic() -> None:
    demo.seed(StringIO())
    by_name = dict(Product.objects.values_list("name", "eligibility"))
    counts = {value: list(by_name.values()).count(value) for value in Eligibility.values}

    assert all(count >= 10 for count in counts.values()), counts
    assert by_name["Oura Ring 4"] == Eligibility.LMN_REQUIRED
    assert by_name["SleepMe Dock Pro Sleep System, Queen"] == Eligibility.LMN_REQUIRED
    assert by_name["PowerBlock Pro 50 Adjustable Dumbbells"] == Eligibility.LMN_REQUIRED
    assert by_name["Shiseido Ultimate Sun Protector Lotion SPF 50+"] == Eligibility.AUTO_SUBSTANTIATION
    assert by_name["SunShield+ Everyday Sunscreen SPF 30"] == Eligibility.AUTO_SUBSTANTIATION
    assert by_name["Dermstore Mineral Sunscreen SPF 30"] == Eligibility.AUTO_SUBSTANTIATION
    assert by_name["Kindred Bravely Hands-Free Pumping Bra"] == Eligibility.AUTO_SUBSTANTIATION
    assert by_name["Ibuprofen 200 mg, 500 tablets"] == Eligibility.AUTO_SUBSTANTIATION
    assert by_name["Oura Ring Charging Dock"] == Eligibility.NOT_ELIGIBLE


def test_seeding_twice_changes_nothing() -> None:
    first, second = StringIO(), StringIO()
    demo.seed(first)
    after_first = _snapshot()
    demo.seed(second)

    assert _snapshot() == after_first
    assert first.getvalue() == second.getvalue()


def test_the_demo_catalog_is_searchable_and_browsable(client: Client) -> None:
    demo.seed(StringIO())
    assert Product.objects.filter(search_vector__isnull=True).count() == 0
    response = client.get("/shop/", {"q": "sunscreen"})
    names = [p.name for p in response.context["listing"].page]
    # Name matches first, then the product whose description says "sunscreen".
    assert all("Sunscreen" in name for name in names[:-1]) and len(names) >= 5
    assert names[-1] == "Shiseido Ultimate Sun Protector Lotion SPF 50+"
    for product in Product.objects.sellable()[:5]:
        assert client.get(product.get_absolute_url()).status_code == 200
