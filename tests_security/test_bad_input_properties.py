"""Bad input never yields a 500: Hypothesis posts generated data everywhere a stranger can type.

Targets: the intake steps, the shop's search and filter parameters, the admin's
CSV import, the Stripe webhook (unsigned, and validly signed but malformed) and
the letter verification form with its PDF upload. Each example runs in its own
savepoint (rolled back), answers with one of ``ALLOWED`` and leaves the
database's invariants intact: no consultation decided without a clinician, no
payment or order moved by junk, no half-imported CSV, no orphan rows.

Bounded for CI: ``max_examples`` 40 each, no deadline, derandomized (the same
examples every run).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent
from consultations.models import Consultation, ConsultationStatus
from letters.models import Letter
from marketplace.models import Category, Merchant, Product
from payments.models import Order, OrderItem, Payment, ProviderEvent

from .conftest import client_as
from .world import World

pytestmark = pytest.mark.django_db

ALLOWED = {200, 201, 204, 301, 302, 303, 400, 403, 404, 429}
# The verification upload refuses an oversized body before reading it: 413 Payload Too Large.
ALLOWED_UPLOAD = ALLOWED | {413}
WEBHOOK_SECRET = "whsec_made_up_for_property_tests"

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text as browsers and scripts send it: any Unicode but lone surrogates (unencodable), NUL and controls included.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
nasty_text = st.one_of(
    any_text,
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "NaN",
            "Infinity",
            "-0",
            "1e309",
            "9" * 40,
            "-1",
            "0000-00-00",
            "1988-02-30",
            "9999-12-31",
            "1899-12-31",
            "<script>alert(1)</script>",
            "'; DROP TABLE consultations_consultation; --",
            "%00",
            "../../etc/passwd",
            "123-45-6789",
            "\u202e\u200b\ufeff",
            "x" * 5000,
        ]
    ),
)
INTAKE_FIELDS = [
    "legal_name",
    "date_of_birth",
    "sex",
    "state",
    "conditions",
    "sleep_hours",
    "impact",
    "diagnosed_on",
    "safety",
    "consent_telehealth",
    "attest_true",
    "back",
    # Fields the intake never has: a forged decision must be ignored.
    "status",
    "decided_by",
    "diagnosis",
    "icd10_code",
    "patient",
]
form_data = st.dictionaries(
    st.one_of(st.sampled_from(INTAKE_FIELDS), any_text.filter(bool)),
    st.one_of(nasty_text, st.lists(nasty_text, max_size=3)),
    max_size=8,
)


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's changes, undone afterwards (a savepoint inside the test's transaction)."""
    cache.clear()  # each example starts below every rate limit
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _snapshot() -> dict[str, Any]:
    """What junk input must never change."""
    return {
        "consultations": dict(Consultation.objects.values_list("pk", "status")),
        "payments": dict(Payment.objects.values_list("pk", "status")),
        "orders": dict(Order.objects.values_list("pk", "status")),
        "letters": dict(Letter.objects.values_list("pk", "status")),
        "products": Product.objects.count(),
    }


def _assert_invariants() -> None:
    # No consultation is decided without a clinician, and no letter exists without a decided consultation.
    assert not Consultation.objects.filter(status=ConsultationStatus.APPROVED, decided_by=None).exists()
    assert not Letter.objects.exclude(consultation__status=ConsultationStatus.APPROVED).exists()
    # No order without items, no item without its order (the foreign key guarantees the latter).
    assert not Order.objects.annotate(n=Count("items")).filter(n=0).exists()
    assert OrderItem.objects.filter(order__isnull=True).count() == 0
    # No product without a merchant and a category.
    assert not Product.objects.filter(merchant__isnull=True).exists()


# --------------------------------------------------------------------------- the intake


@BOUNDED
@given(step=st.integers(min_value=0, max_value=5), data=form_data)
def test_intake_steps_take_any_post(
    world: World, signed_in: dict[str, SimpleCookie], step: int, data: dict[str, Any]
) -> None:
    with rolled_back():
        before = _snapshot()
        response = client_as(signed_in, "shopper").post(
            reverse("consultations:step", args=[world.draft.pk, step]), data
        )
        assert response.status_code in ALLOWED
        after = _snapshot()
        draft_status = after["consultations"].pop(world.draft.pk)
        # The draft may only stay a draft or end as disqualified (a disqualifying answer); nothing else moves.
        assert draft_status in (ConsultationStatus.DRAFT, ConsultationStatus.DISQUALIFIED)
        before["consultations"].pop(world.draft.pk)
        assert after == before
        world.draft.refresh_from_db()
        assert world.draft.decided_by is None and world.draft.diagnosis == ""
        _assert_invariants()


@BOUNDED
@given(data=form_data, persona=st.sampled_from(["shopper", "clinician"]))
def test_the_consultation_reply_and_clinician_decisions_take_any_post(
    world: World, signed_in: dict[str, SimpleCookie], data: dict[str, Any], persona: str
) -> None:
    routes = (
        ["consultations:reply"]
        if persona == "shopper"
        else ["consultations:case_ask", "consultations:case_approve", "consultations:case_deny"]
    )
    with rolled_back():
        before = _snapshot()
        client = client_as(signed_in, persona)
        for route in routes:
            assert client.post(reverse(route, args=[world.case.pk]), data).status_code in ALLOWED
        # The case is not claimed by the clinician: nothing may be decided, whatever is posted.
        assert _snapshot() == before
        _assert_invariants()


# --------------------------------------------------------------------------- search and filters

SHOP_PARAMS = ["q", "category", "merchant", "eligibility", "min_price", "max_price", "sort", "page"]


@BOUNDED
@given(
    params=st.dictionaries(st.one_of(st.sampled_from(SHOP_PARAMS), any_text), nasty_text, max_size=6),
    path=st.sampled_from(["/shop/", "/shop/c/sleep-home-wellness/", "/shop/m/restwell-labs/"]),
)
def test_search_and_filters_take_any_parameters(world: World, params: dict[str, str], path: str) -> None:
    with rolled_back():
        before = _snapshot()
        response = Client().get(path, params)
        assert response.status_code in ALLOWED
        assert _snapshot() == before


@BOUNDED
@given(raw=st.binary(max_size=200))
def test_search_takes_any_raw_query_string(world: World, raw: bytes) -> None:
    """Percent-encoded bytes that are not UTF-8, NULs, stray ``&`` and ``=``: decoded leniently, never a 500."""
    query = "".join(f"%{byte:02X}" if byte not in b"&=" else chr(byte) for byte in raw)
    with rolled_back():
        response = Client().get("/shop/", QUERY_STRING=f"q={query}&{query}")
        assert response.status_code in ALLOWED


# --------------------------------------------------------------------------- the CSV import (admin)

csv_cell = st.one_of(
    nasty_text.map(lambda s: s[:80]),
    st.sampled_from(["129.00", "$1,299", "0", "-5", "100000.01", "12.345", "lmn", "auto", "not_eligible"]),
    st.sampled_from(["sleep-home-wellness", "Fitness & recovery", "=cmd|' /C calc'!A0", "2000000007779"]),
)
csv_rows = st.lists(st.lists(csv_cell, min_size=0, max_size=8), max_size=6)
CSV_HEADERS = ["name", "description", "price", "category", "eligibility", "gtin", "url"]


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


@BOUNDED
@given(
    content=st.one_of(
        st.binary(max_size=3000),
        st.builds(_csv_bytes, st.permutations(CSV_HEADERS).map(list), csv_rows),
        st.builds(_csv_bytes, st.lists(any_text, max_size=5), csv_rows),
    ),
    name=st.sampled_from(["products.csv", "products.xlsx", "../../products.csv", "p\x00.csv", ""]),
)
def test_the_csv_import_takes_any_file(
    world: World, signed_in: dict[str, SimpleCookie], content: bytes, name: str
) -> None:
    url = reverse("admin:marketplace_product_import_csv")
    with rolled_back():
        before = _snapshot()
        client = client_as(signed_in, "ops")
        upload = SimpleUploadedFile(name or "unnamed", content, content_type="text/csv")
        response = client.post(url, {"merchant": str(world.merchant.pk), "file": upload})
        assert response.status_code in ALLOWED
        assert _snapshot()["products"] == before["products"], "a preview never writes"
        payload = response.context.get("confirm") if response.context else None
        if payload is not None:
            # The preview found every row valid: importing is all rows or none.
            rows = len(response.context["preview"].rows)
            confirm = client.post(url, {"payload": payload.initial["payload"]})
            assert confirm.status_code in ALLOWED
            assert Product.objects.count() - before["products"] in (0, response.context["preview"].create_count)
            assert rows >= response.context["preview"].create_count
        _assert_invariants()


@BOUNDED
@given(payload=nasty_text)
def test_the_csv_import_confirmation_refuses_a_forged_payload(
    world: World, signed_in: dict[str, SimpleCookie], payload: str
) -> None:
    with rolled_back():
        before = Product.objects.count()
        response = client_as(signed_in, "ops").post(
            reverse("admin:marketplace_product_import_csv"), {"payload": payload}
        )
        assert response.status_code in ALLOWED
        assert Product.objects.count() == before


# --------------------------------------------------------------------------- the Stripe webhook

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=12,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(any_text, st.integers(), json_values),
        "type": st.one_of(
            st.sampled_from(
                [
                    "payment_intent.amount_capturable_updated",
                    "payment_intent.succeeded",
                    "payment_intent.canceled",
                    "payment_intent.payment_failed",
                    "charge.refunded",
                    "customer.created",
                ]
            ),
            any_text,
            json_values,
        ),
        "data": st.one_of(json_values, st.fixed_dictionaries({"object": json_values})),
    },
)


def _signature(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@BOUNDED
@given(body=st.one_of(st.binary(max_size=500), events.map(lambda e: json.dumps(e).encode())), header=any_text)
def test_the_webhook_refuses_anything_unsigned_before_writing(
    world: World, settings: Any, body: bytes, header: str
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    with rolled_back():
        events_before = ProviderEvent.objects.count()
        before = _snapshot()
        response = Client().post(
            reverse("payments:stripe_webhook"), body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
        assert response.status_code == 400
        assert ProviderEvent.objects.count() == events_before and _snapshot() == before


@BOUNDED
@given(event=events, stale=st.booleans())
def test_the_webhook_takes_any_signed_event(world: World, settings: Any, event: dict[str, Any], stale: bool) -> None:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    body = json.dumps(event).encode()
    signature = _signature(body, at=int(time.time()) - 3600 if stale else None)
    with rolled_back():
        events_before = ProviderEvent.objects.count()
        before = _snapshot()
        response = Client().post(
            reverse("payments:stripe_webhook"), body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        assert response.status_code in ALLOWED
        if stale:
            assert response.status_code == 400
        # Events about payments we do not have change nothing; at most the event itself is recorded.
        assert _snapshot() == before
        assert ProviderEvent.objects.count() - events_before in (0, 1)


# --------------------------------------------------------------------------- letter verification

pdf_like = st.one_of(st.binary(max_size=4000), st.binary(max_size=4000).map(lambda b: b"%PDF-" + b))


@BOUNDED
@given(
    token=nasty_text,
    upload=st.one_of(st.none(), pdf_like),
    action=st.sampled_from(["token", "upload", "", "other"]),
)
def test_the_verification_form_takes_any_code_or_file(
    world: World, token: str, upload: bytes | None, action: str
) -> None:
    with rolled_back():
        before = _snapshot()
        data: dict[str, Any] = {"action": action, "token": token}
        if upload is not None:
            data["pdf"] = SimpleUploadedFile("letter.pdf", upload, content_type="application/pdf")
        response = Client().post(reverse("letters:verify"), data)
        assert response.status_code in ALLOWED_UPLOAD
        assert _snapshot() == before
        assert not AuditEvent.objects.filter(action="letter.verification_uploaded", extra__matched=True).exists()


@BOUNDED
@given(token=any_text.filter(lambda s: "/" not in s))
def test_the_verification_page_takes_any_token(world: World, token: str) -> None:
    with rolled_back():
        response = Client().get("/verify/" + quote(token or "x", safe="") + "/")
        assert response.status_code in ALLOWED
        if response.status_code == 200:
            assert token == world.letter.verification_token


def test_the_invariants_hold_for_the_world_itself(world: World) -> None:
    """The invariants above are not vacuous: the world has decided cases, letters, orders and products."""
    _assert_invariants()
    assert Consultation.objects.filter(status=ConsultationStatus.APPROVED).exists()
    assert (
        Letter.objects.exists() and Order.objects.exists() and Merchant.objects.exists() and Category.objects.exists()
    )
