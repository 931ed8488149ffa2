"""Cart and checkout page benchmark: a signed-in shopper's cart with each kind of item, 10,000 products.

    .venv/bin/python benchmarks/pages.py              # 200 timed requests per page
    .venv/bin/python benchmarks/pages.py --runs 50

Uses the catalog benchmark's database (``flexlmn_bench``, seeded by catalog.py's
``seed_catalog`` when empty) and times GET /cart/ and GET /checkout/ for a shopper
whose cart holds an auto-substantiated item, two items that need a letter (two
categories) and an item HSA/FSA cannot pay for, interleaved with the plain-view
baseline through the same middleware. Exits 1 when a page's median is over budget.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Bench, print_table, setup_django

DATABASE = "flexlmn_bench"
BUDGET_MS = 40.0
SHOPPER_EMAIL = "bench.cart.shopper@example.test"


def prepare_shopper() -> Any:
    """The benchmark shopper with a fresh cart of four items (one auto, two needing letters, one not eligible)."""
    from accounts.models import Role, User
    from marketplace.models import Cart, Eligibility, Product
    from marketplace.services import cart_add, cart_clear

    shopper, _ = User.objects.get_or_create(email=SHOPPER_EMAIL, defaults={"role": Role.SHOPPER})
    cart, _ = Cart.objects.get_or_create(user=shopper)
    cart_clear(cart=cart)
    sellable = Product.objects.sellable().order_by("slug")
    picks = [sellable.filter(eligibility=Eligibility.AUTO_SUBSTANTIATION).first()]
    letter_products = sellable.filter(eligibility=Eligibility.LMN_REQUIRED)
    first = letter_products.first()
    picks += [first, letter_products.exclude(category=first.category).first() if first else None]
    picks.append(sellable.filter(eligibility=Eligibility.NOT_ELIGIBLE).first())
    for product in picks:
        if product is None:
            raise SystemExit("The catalog has no product of some eligibility; run benchmarks/catalog.py first.")
        cart_add(cart=cart, product=product, quantity=1)
    return shopper


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--max-seconds", type=float, default=90.0, help="stop timing after this long")
    args = parser.parse_args()

    setup_django(DATABASE)
    from catalog import seed_catalog

    seed_catalog()
    shopper = prepare_shopper()
    bench = Bench(prepare_client=lambda client: client.force_login(shopper))
    bench.add("cart (4 items, signed in)", "/cart/")
    bench.add("checkout page (4 items)", "/checkout/")
    results = bench.run(runs=args.runs, max_seconds=args.max_seconds)
    ok = print_table(results, title="Cart and checkout pages, 10,000 products", budget_ms=BUDGET_MS)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
