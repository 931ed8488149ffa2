"""``make run`` uses SQLite: the catalog must work there with the icontains fallback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django
django.setup()
from django.core.management import call_command
# django_q first: other apps register their schedules when any migration finishes.
for app in ("django_q", "accounts", "marketplace"):
    call_command("migrate", app, verbosity=0)
from django.db import connection
from marketplace.models import Category, Eligibility, Merchant, MerchantStatus
from marketplace.selectors import CatalogQuery, catalog_listing, catalog_products
from marketplace.services import merchant_activate, merchant_apply, product_create
assert connection.vendor == "sqlite", connection.vendor
merchant = merchant_apply(name="Restwell Labs", contact_email="hi@restwell.example")
merchant_activate(merchant=merchant)
sleep = Category.objects.create(name="Sleep & home wellness", slug="sleep-home-wellness")
product_create(merchant=merchant, category=sleep, name="Weighted Blanket", price_cents=9900,
               description="Pairs with a cooling pillow.", eligibility=Eligibility.LMN_REQUIRED)
product_create(merchant=merchant, category=sleep, name="Cooling Pillow", price_cents=4900,
               description="Gel.", eligibility=Eligibility.NOT_ELIGIBLE)
names = lambda params: [p.name for p in catalog_products(CatalogQuery.from_params(params))]
print(names({"q": "cooling"}))
print(names({"q": "restwell", "sort": "price_asc"}))
print(names({"q": "!!!"}))
print(catalog_listing({"q": "pillow", "page": "9"}).page.number)
"""


@pytest.mark.slow
def test_search_falls_back_to_icontains_on_sqlite(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST"}
    }
    env.update(DJANGO_SETTINGS_MODULE="flexlmn.settings.base", DEBUG="1", FLEXLMN_VAR_DIR=str(tmp_path))

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "['Cooling Pillow', 'Weighted Blanket']",
        "['Cooling Pillow', 'Weighted Blanket']",
        "[]",
        "1",
    ]
    assert (tmp_path / "flexlmn.sqlite3").exists()
