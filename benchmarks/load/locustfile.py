"""Locust load script: 100 shoppers browse, search, add to cart and open checkout; 10 clinicians review.

Run it through ``benchmarks/load/run.py`` (which seeds the data, starts gunicorn and
writes the fixture file this script reads from LOAD_FIXTURES): product URLs and
ids, search terms, waiting case ids and the clinicians' session cookies.
"""

from __future__ import annotations

import json
import os
import random

from locust import HttpUser, between, task

with open(os.environ["LOAD_FIXTURES"], encoding="utf-8") as handle:
    FIXTURES = json.load(handle)


class Shopper(HttpUser):
    weight = 100
    wait_time = between(1, 3)  # type: ignore[no-untyped-call]

    def on_start(self) -> None:
        self.client.get("/shop/", name="/shop/")

    @task(3)
    def browse(self) -> None:
        self.client.get("/shop/", name="/shop/")

    @task(2)
    def search(self) -> None:
        self.client.get(f"/shop/?q={random.choice(FIXTURES['terms'])}", name="/shop/?q=")  # noqa: S311

    @task(3)
    def product(self) -> None:
        self.client.get(random.choice(FIXTURES["product_urls"]), name="product page")  # noqa: S311

    @task(1)
    def add_to_cart_and_check_out(self) -> None:
        index = random.randrange(len(FIXTURES["product_ids"]))  # noqa: S311
        page = FIXTURES["product_urls"][index]
        self.client.get(page, name="product page")  # the page with the add-to-cart form sets the CSRF cookie
        token = self.client.cookies.get("csrftoken") or ""
        self.client.post(
            "/cart/add/",
            data={"product": FIXTURES["product_ids"][index], "quantity": 1},
            headers={"X-CSRFToken": token, "Referer": self.host + page},
            name="/cart/add/",
        )
        self.client.get("/cart/", name="/cart/")
        self.client.get("/checkout/", name="/checkout/")


class Clinician(HttpUser):
    weight = 10
    wait_time = between(2, 5)  # type: ignore[no-untyped-call]

    def on_start(self) -> None:
        sessions = FIXTURES["clinician_sessions"]
        cookie = sessions[hash(id(self)) % len(sessions)]
        self.client.cookies.set(FIXTURES["session_cookie_name"], cookie)

    @task(2)
    def queue(self) -> None:
        self.client.get("/clinician/", name="/clinician/")

    @task(1)
    def case(self) -> None:
        self.client.get(f"/clinician/cases/{random.choice(FIXTURES['case_ids'])}/", name="case page")  # noqa: S311
