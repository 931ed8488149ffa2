"""Locust load script: 100 signed-in shoppers browse, search and check out; 10 clinicians review and decide.

Run it through ``benchmarks/load/run.py`` (which seeds the data, starts gunicorn and a
task worker and writes the fixture file this script reads from LOAD_FIXTURES):
product URLs and ids, search terms, waiting case ids, the approval form as the case
page pre-fills it, and the shoppers' and clinicians' session cookies.

A shopper's checkout is the whole purchase of an auto-substantiated product with the
test provider: product page, add to cart, cart, checkout, start, contact details,
card, and the order page, with a shopper's pause (the same 1–3 s) between pages.
Redirects are not followed automatically, so every request is timed under its own
name.
"""

from __future__ import annotations

import json
import os
import random
from itertools import count

from locust import HttpUser, between, task

with open(os.environ["LOAD_FIXTURES"], encoding="utf-8") as handle:
    FIXTURES = json.load(handle)

CONTACT = {
    "step": "details",
    "name": "Casey Loadtest",
    "phone": "",
    "line1": "1 Benchmark Way",
    "line2": "",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62701",
}
CARD = {
    "step": "payment",
    "card_number": "4242 4242 4242 4242",
    "card_expiry": "12 / 30",
    "card_cvc": "123",
    "card_name": "Casey Loadtest",
}
# A shopper's pause between pages, in seconds ("1,3"); the script's own test shortens it.
THINK = tuple(float(part) for part in os.environ.get("LOAD_THINK_SECONDS", "1,3").split(","))
_shopper_numbers = count()
_clinician_numbers = count()


class Shopper(HttpUser):
    weight = 100
    wait_time = between(THINK[0], THINK[1])  # type: ignore[no-untyped-call]

    def on_start(self) -> None:
        number = next(_shopper_numbers) % len(FIXTURES["shopper_sessions"])
        self.email = FIXTURES["shopper_emails"][number]
        self.client.cookies.set(FIXTURES["session_cookie_name"], FIXTURES["shopper_sessions"][number])
        self.client.get("/shop/", name="/shop/")

    def _post(self, url: str, data: dict[str, object], name: str, referer: str) -> str:
        """POST like the browser's form and answer where it redirects ("" when it did not)."""
        token = self.client.cookies.get("csrftoken") or ""
        with self.client.post(
            url,
            data=data,
            headers={"X-CSRFToken": token, "Referer": self.host + referer},
            name=name,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"expected a redirect, got {response.status_code}")
                return ""
            response.success()
            return str(response.headers["Location"])

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
    def check_out(self) -> None:
        index = random.randrange(len(FIXTURES["checkout_product_ids"]))  # noqa: S311
        page = FIXTURES["checkout_product_urls"][index]
        self.client.get(page, name="product page")  # its add-to-cart form sets the CSRF cookie
        self.wait()
        product = FIXTURES["checkout_product_ids"][index]
        if not self._post("/cart/add/", {"product": product, "quantity": 1}, "/cart/add/ (POST)", page):
            return
        self.wait()
        self.client.get("/cart/", name="/cart/")
        self.wait()
        self.client.get("/checkout/", name="/checkout/")
        self.wait()
        pay_url = self._post("/checkout/", {"action": "start"}, "/checkout/ (POST start)", "/checkout/")
        if not pay_url:
            return
        self.client.get(pay_url, name="/pay/ details")
        self.wait()
        payment_url = self._post(pay_url, {**CONTACT, "email": self.email}, "/pay/ (POST details)", pay_url)
        if not payment_url:
            return
        self.client.get(payment_url, name="/pay/ payment")
        self.wait()
        order_url = self._post(payment_url, CARD, "/pay/ (POST card)", payment_url)
        if order_url:
            self.client.get(order_url, name="order page")


class Clinician(HttpUser):
    """A clinician of their own (licensed, TOTP set up) working the shared queue.

    *Review next* claims the most urgent case (SKIP LOCKED, so ten clinicians never
    get the same one), the case page is read, and the case is approved with the
    pre-filled draft (its letter is rendered and emailed by the task worker) or, every
    fifth decision, denied.
    """

    weight = 10
    wait_time = between(THINK[0] * 2, THINK[1] * 5 / 3)  # type: ignore[no-untyped-call]

    def on_start(self) -> None:
        sessions = FIXTURES["clinician_sessions"]
        self.client.cookies.set(FIXTURES["session_cookie_name"], sessions[next(_clinician_numbers) % len(sessions)])
        self.client.get("/clinician/", name="/clinician/")  # sets the CSRF cookie
        self.decisions = 0
        self.review()  # every clinician decides at least one case, however short the run

    _post = Shopper._post

    @task(2)
    def queue(self) -> None:
        self.client.get("/clinician/", name="/clinician/")

    @task(1)
    def case(self) -> None:
        self.client.get(f"/clinician/cases/{random.choice(FIXTURES['case_ids'])}/", name="case page")  # noqa: S311

    @task(2)
    def review(self) -> None:
        case_url = self._post("/clinician/next/", {}, "/clinician/next/ (POST)", "/clinician/")
        if not case_url.startswith("/clinician/cases/"):
            return  # nothing waiting for this clinician: back to the queue
        self.client.get(case_url, name="case page")
        self.wait()
        self.decisions += 1
        if self.decisions % 5 == 0:
            decision = {"reason_code": "no_qualifying_condition", "note": "Please see your own doctor first."}
            self._post(case_url + "deny/", decision, "/clinician/cases/ (POST deny)", case_url)
        else:
            self._post(case_url + "approve/", FIXTURES["approval"], "/clinician/cases/ (POST approve)", case_url)
