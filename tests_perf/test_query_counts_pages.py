"""Every remaining page that shows rows runs as many SQL queries for many rows as for one.

tests_perf/test_query_counts.py covers the clinician queue and case page, the intake,
orders and verification pages and every admin changelist; the apps' own tests cover
the shop's catalog pages, the vault and the orders list. This file covers the rest:
the cart, checkout and pay pages (the Flex Shop's and a merchant's hosted one), an
order's page, receipt and receipt PDF, a merchant's shop page, the home and sell
pages, the letters request, fee, correction and renewal pages, the clinician's
corrections, and the admin change pages whose inlines list rows.

Each test counts a page with a little data, then with more (``MORE`` rows where the
page shows one), and asserts the count did not grow: a query per row fails it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from consultations.models import Consultation
from consultations.tests.factories import ClinicianProfileFactory, LicenseFactory, QuestionnaireFactory
from consultations.tests.support import CONTACT, complete_intake
from letters import corrections
from letters import services as letters
from letters.models import DeliveryReason, LetterCorrectionRequest, LetterDelivery, LetterRequest
from letters.tests.factories import LetterFactory, LetterRequestFeeFactory
from marketplace.models import Cart, CartItem, Category, Eligibility, Merchant, Product
from marketplace.selectors import catalog_navigation_forget
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory, make_gtin
from payments import services as payments
from payments.models import (
    CheckoutSession,
    MerchantEvent,
    MerchantEventType,
    MerchantWebhookAttempt,
    MerchantWebhookDelivery,
    Order,
    OrderStatus,
    Refund,
    RefundItem,
)
from payments.providers import CardDetails
from payments.tests.merchant_api_support import ApiClient, endpoint_for, new_key, session_payload

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MORE = 8
APPROVED = CardDetails(number="4242424242424242", exp_month=12, exp_year=2035, cvc="123", name="Sam Shopper")
DECLINED = CardDetails(number="4000000000000002", exp_month=12, exp_year=2035, cvc="123", name="Sam Shopper")
ELIGIBILITIES = (Eligibility.LMN_REQUIRED, Eligibility.AUTO_SUBSTANTIATION, Eligibility.NOT_ELIGIBLE)
_serial = iter(range(10_000, 1_000_000))


def _measure(client: Client, url: str) -> tuple[int, Any]:
    """The SQL query count of a GET of ``url`` (which must answer 200), and the response."""
    # Cold: the cached catalog navigation is read from the database too (the worst case).
    catalog_navigation_forget()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), response


def _count(client: Client, url: str) -> int:
    return _measure(client, url)[0]


def _warm_measure(client: Client, url: str) -> tuple[int, Any]:
    """Warm up (session, content types, the sign-in's first activity), then measure a steady request."""
    client.get(url)
    return _measure(client, url)


def _warm_count(client: Client, url: str) -> int:
    return _warm_measure(client, url)[0]


def _inline_rows(response: Any) -> int:
    """How many saved rows an admin change page's inlines list."""
    return sum(len(inline.formset.initial_forms) for inline in response.context["inline_admin_formsets"])


def _products(
    n: int, *, eligibility: str | None = None, merchant: Merchant | None = None, payable: bool = False
) -> list[Product]:
    """``n`` sellable products, each of its own merchant (unless given) and category.

    Eligibility is ``eligibility``, else mixed: of the three classes, or of the two HSA/FSA pays for (``payable``).
    """
    classes = ELIGIBILITIES[:2] if payable else ELIGIBILITIES
    made = []
    for i in range(n):
        serial = next(_serial)
        made.append(
            ProductFactory(
                name=f"Wellness product {serial}",
                merchant=merchant or MerchantFactory(name=f"Merchant {serial}"),
                category=CategoryFactory(name=f"Category {serial}"),
                eligibility=eligibility or classes[i % len(classes)],
                gtin=make_gtin(serial),
                price_cents=1_000 + i,
            )
        )
    return made


def _fill_cart(user: User, products: list[Product]) -> Cart:
    cart, _ = Cart.objects.get_or_create(user=user)
    for product in products:
        CartItem.objects.create(cart=cart, product=product, quantity=2)
    return cart


def _shopper() -> User:
    serial = next(_serial)
    return UserFactory(email=f"pat.person{serial}@example.test", first_name="Pat", last_name=f"Person{serial}")


# --------------------------------------------------------------------------- shop pages


@pytest.mark.parametrize("signed_in", [False, True])
def test_cart_query_count_does_not_grow_with_lines(client: Client, shopper: User, signed_in: bool) -> None:
    if signed_in:
        client.force_login(shopper)
    first, *rest = _products(1 + MORE)
    assert client.post(reverse("marketplace:cart_add"), {"product": first.pk, "quantity": 1}).status_code == 302
    url = reverse("marketplace:cart")
    small = _warm_count(client, url)

    cart = Cart.objects.get(user=shopper if signed_in else None)
    for product in rest:
        CartItem.objects.create(cart=cart, product=product, quantity=3)

    grown, response = _measure(client, url)
    assert len(response.context["summary"].lines) == 1 + MORE
    assert grown <= small


def test_merchant_page_query_count_does_not_grow_with_products(client: Client) -> None:
    merchant = MerchantFactory(name="Restwell Labs", featured=True)
    _products(1, merchant=merchant)
    url = reverse("marketplace:merchant", args=[merchant.slug])
    small = _warm_count(client, url)

    _products(3 * MORE, merchant=merchant)

    grown, response = _measure(client, url)
    assert response.context["listing"].page.paginator.count == 1 + 3 * MORE
    assert len(response.context["listing"].page) > MORE
    assert grown <= small


@pytest.mark.parametrize("page", ["home", "sell"])
@pytest.mark.parametrize("signed_in", [False, True])
def test_home_and_sell_query_count_does_not_grow_with_the_catalog(
    client: Client, shopper: User, page: str, signed_in: bool
) -> None:
    if signed_in:
        client.force_login(shopper)
        _fill_cart(shopper, _products(1))
    else:
        _products(1)
    url = reverse("home") if page == "home" else reverse("marketplace:sell")
    small = _warm_count(client, url)

    grown = _products(MORE)
    Merchant.objects.update(featured=True)
    if signed_in:
        _fill_cart(shopper, grown)

    assert _count(client, url) <= small


# --------------------------------------------------------------------------- checkout and the pay page


def test_checkout_query_count_does_not_grow_with_cart_lines(client: Client) -> None:
    def count(lines: int) -> int:
        user = _shopper()
        # Letter-needing and auto-substantiated lines (the review page refuses nothing; it groups them).
        _fill_cart(user, _products(lines, eligibility=Eligibility.LMN_REQUIRED) + _products(lines))
        client.force_login(user)
        count, response = _warm_measure(client, reverse("payments:checkout"))
        assert len(response.context["summary"].lines) == 2 * lines
        return count

    small = count(1)
    assert count(MORE) <= small


def _session(lines: list[Product], user: User | None = None) -> tuple[User, CheckoutSession]:
    """A Flex Shop checkout session of ``lines`` (one each), for ``user`` or a new shopper."""
    user = user or _shopper()
    Cart.objects.filter(user=user).delete()
    cart = _fill_cart(user, lines)
    return user, payments.checkout_session_create_from_cart(cart=cart, user=user)


@pytest.mark.parametrize("step", ["details", "payment"])
def test_pay_page_query_count_does_not_grow_with_order_items(client: Client, step: str) -> None:
    def count(lines: int) -> int:
        # The payment step comes straight after the details only when no letter is needed.
        eligibility = Eligibility.AUTO_SUBSTANTIATION if step == "payment" else None
        user, session = _session(_products(lines, eligibility=eligibility, payable=True))
        if step == "payment":
            order = payments.checkout_session_set_details(session=session, details=CONTACT, actor=user)
            # Declined attempts: the page shows the last one.
            for _ in range(lines):
                assert payments.order_pay(order=order, actor=user, card=DECLINED).outcome == "declined"
        client.force_login(user)
        count, response = _warm_measure(client, reverse("payments:pay", args=[session.pk]))
        assert response.context["step"] == step
        assert len(response.context["lines"]) == lines
        return count

    small = count(1)
    assert count(MORE) <= small


def _api_session(client: Client, lines: int) -> CheckoutSession:
    merchant = MerchantFactory(name=f"Hosted Merchant {next(_serial)}")
    _merchant, secret = new_key(merchant, mode="test")
    synced = _products(lines, eligibility=Eligibility.AUTO_SUBSTANTIATION, merchant=merchant)
    for product in synced:
        product.merchant_reference = f"SKU-{product.pk}"
        product.save(update_fields=["merchant_reference"])
    line_items: list[dict[str, Any]] = []
    for i in range(lines):
        serial = next(_serial)
        line_items.append(
            {
                "name": f"Digital thermometer {serial}",
                "unit_price_cents": 2_499 + i,
                "quantity": 1 + i % 3,
                "eligibility": "auto_substantiation",
                "gtin": make_gtin(serial),
                "merchant_reference": f"THERMO-{serial}",
            }
        )
        line_items.append({"product": synced[i].merchant_reference, "quantity": 1})
    response = ApiClient(client, secret).post("/checkout_sessions", session_payload(line_items=line_items))
    assert response.status_code in (200, 201), response.content
    return CheckoutSession.objects.get(pk=response.json()["id"])


@pytest.mark.parametrize("step", ["details", "payment"])
def test_merchant_hosted_pay_page_query_count_does_not_grow_with_line_items(client: Client, step: str) -> None:
    def count(lines: int) -> int:
        session = _api_session(client, lines)
        user = _shopper()
        session = payments.checkout_session_claim(session=session, user=user)
        if step == "payment":
            payments.checkout_session_set_details(session=session, details=CONTACT, actor=user)
        client.force_login(user)
        count, response = _warm_measure(client, reverse("payments:pay", args=[session.pk]))
        assert response.context["step"] == step
        # An inline item and a synced catalog product per line.
        assert len(response.context["lines"]) == 2 * lines
        return count

    small = count(1)
    assert count(MORE) <= small


# --------------------------------------------------------------------------- orders and receipts


def _paid_order(user: User, lines: int, *, ops: User) -> Order:
    """A confirmed no-letter order of ``lines`` items, after ``lines`` declined attempts, with ``lines`` refunds."""
    _user, session = _session(_products(lines, eligibility=Eligibility.AUTO_SUBSTANTIATION), user)
    order = payments.checkout_session_set_details(session=session, details=CONTACT, actor=user)
    for _ in range(lines):
        assert payments.order_pay(order=order, actor=user, card=DECLINED).outcome == "declined"
    payments.order_pay(order=order, actor=user, card=APPROVED)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    payment = order.payments.get(status="captured")
    for item in order.items.all():
        refund = Refund.objects.create(
            order=order, payment=payment, amount_cents=1, reason="Dented box", created_by=ops
        )
        RefundItem.objects.create(refund=refund, order_item=item, quantity=1, amount_cents=1)
    return order


@pytest.mark.parametrize("page", ["payments:order_detail", "payments:receipt", "payments:receipt_pdf"])
def test_order_page_and_receipts_query_count_does_not_grow_with_items(
    client: Client, shopper: User, ops: User, page: str
) -> None:
    client.force_login(shopper)

    def count(lines: int) -> int:
        order = _paid_order(shopper, lines, ops=ops)
        count, response = _warm_measure(client, reverse(page, args=[order.pk]))
        if page == "payments:receipt_pdf":
            assert response["Content-Type"] == "application/pdf"
        else:
            assert len(response.context["items" if page == "payments:order_detail" else "lines"]) == lines
            assert len(response.context["refunds"]) == lines
        return count

    small = count(1)
    assert count(MORE) <= small


# --------------------------------------------------------------------------- letters: the shopper's pages


def _requestable(n: int) -> list[Category]:
    made = []
    for _ in range(n):
        category = CategoryFactory(name=f"Requestable {next(_serial)}")
        QuestionnaireFactory(category=category)
        LetterRequestFeeFactory(category=category, amount_cents=3_900)
        made.append(category)
    return made


def _open_request(user: User, category: Category) -> LetterRequest:
    letter_request = letters.letter_request_start(shopper=user, category=category)
    complete_intake(letter_request.consultation)
    return letter_request


def test_letter_request_page_query_count_does_not_grow_with_categories_or_requests(
    client: Client, shopper: User
) -> None:
    first, *_ = _requestable(1)
    _open_request(shopper, first)
    client.force_login(shopper)
    url = reverse("letters:request")
    small = _warm_count(client, url)

    for category in _requestable(MORE):
        _open_request(shopper, category)
        LetterFactory(consultation__patient=shopper, categories=[category])

    grown, response = _measure(client, url)
    assert len(response.context["options"]) == 1 + MORE
    assert len(response.context["open_requests"]) == 1 + MORE
    assert grown <= small


def test_letter_request_pay_page_query_count_does_not_grow_with_the_shoppers_letters(
    client: Client, shopper: User
) -> None:
    first, *_ = _requestable(1)
    letter_request = _open_request(shopper, first)
    client.force_login(shopper)
    url = reverse("letters:request_pay", args=[letter_request.consultation_id])
    small = _warm_count(client, url)

    for category in _requestable(MORE):
        _open_request(shopper, category)
        LetterFactory(consultation__patient=shopper, categories=[category])

    assert _count(client, url) <= small


@pytest.mark.parametrize("page", ["letters:correction", "letters:renew"])
def test_letter_correction_and_renew_pages_query_count_does_not_grow_with_letters(
    client: Client, shopper: User, page: str
) -> None:
    letter = LetterFactory(consultation__patient=shopper, categories=_requestable(1))
    client.force_login(shopper)
    url = reverse(page, args=[letter.pk])
    small = _warm_count(client, url)

    # More of the shopper's letters, and more categories on this one (the renew page lists them).
    for category in _requestable(MORE):
        LetterFactory(consultation__patient=shopper, categories=[category])
        letter.covered_categories.add(category)

    grown, response = _measure(client, url)
    if page == "letters:renew":
        assert len(response.context["categories"]) == 1 + MORE
    assert grown <= small


# --------------------------------------------------------------------------- letters: the clinician's corrections


def _correction() -> LetterCorrectionRequest:
    patient = _shopper()
    letter = LetterFactory(consultation__patient=patient, patient_state="TX")
    LetterDelivery.objects.create(letter=letter, reason=DeliveryReason.ISSUED, recipient=patient.email)
    return corrections.letter_correction_request(
        letter=letter, shopper=patient, legal_name="Pat Q. Person", date_of_birth=date(1988, 4, 21)
    )


@pytest.mark.parametrize("page", ["list", "detail"])
def test_clinician_corrections_query_count_does_not_grow_with_pending_corrections(
    client: Client, licensed: User, page: str
) -> None:
    first = _correction()
    client.force_login(licensed)
    url = reverse("letters:corrections") if page == "list" else reverse("letters:correction_detail", args=[first.pk])
    small = _warm_count(client, url)

    for _ in range(MORE):
        _correction()

    grown, response = _measure(client, url)
    if page == "list":
        assert len(response.context["corrections"]) == 1 + MORE
    assert grown <= small


# --------------------------------------------------------------------------- admin change pages


def _change_url(obj: Any) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_admin_order_change_page_query_count_does_not_grow_with_items_payments_and_refunds(
    client: Client, ops: User, shopper: User
) -> None:
    client.force_login(ops)
    small = _warm_count(client, _change_url(_paid_order(shopper, 1, ops=ops)))

    grown, response = _warm_measure(client, _change_url(_paid_order(shopper, MORE, ops=ops)))
    # Items, payments (declined attempts and the captured one) and refunds.
    assert _inline_rows(response) == MORE + (MORE + 1) + MORE
    assert grown <= small


def test_admin_merchant_change_page_query_count_does_not_grow_with_products(client: Client, ops: User) -> None:
    merchant = MerchantFactory(name="Restwell Labs")
    _products(1, merchant=merchant)
    client.force_login(ops)
    url = _change_url(merchant)
    small = _warm_count(client, url)

    _products(MORE, merchant=merchant)

    grown, response = _measure(client, url)
    assert _inline_rows(response) == 1 + MORE
    assert grown <= small


def test_admin_consultation_change_page_query_count_does_not_grow_with_cases(
    client: Client, ops: User, shopper: User, licensed: User, make_case: Callable[..., Consultation]
) -> None:
    case = make_case(shopper)
    client.force_login(ops)
    url = _change_url(case)
    small = _warm_count(client, url)

    for _ in range(MORE):
        make_case(shopper)
        make_case(_shopper())

    assert _count(client, url) <= small


def test_admin_letter_change_page_query_count_does_not_grow_with_deliveries(client: Client, ops: User) -> None:
    letter = LetterFactory(categories=[CategoryFactory(name="Sleep")])
    LetterDelivery.objects.create(letter=letter, reason=DeliveryReason.ISSUED, recipient=letter.patient.email)
    client.force_login(ops)
    url = _change_url(letter)
    small = _warm_count(client, url)

    for _ in range(MORE):
        LetterDelivery.objects.create(letter=letter, reason=DeliveryReason.RESEND, recipient=letter.patient.email)
        letter.covered_categories.add(CategoryFactory(name=f"Covered {next(_serial)}"))

    grown, response = _measure(client, url)
    assert _inline_rows(response) == 1 + MORE
    assert grown <= small


def test_admin_refund_change_page_query_count_does_not_grow_with_refund_items(
    client: Client, ops: User, shopper: User
) -> None:
    def refund_of(lines: int) -> Refund:
        order = _paid_order(shopper, lines, ops=ops)
        refund = Refund.objects.create(
            order=order,
            payment=order.payments.get(status="captured"),
            amount_cents=lines,
            reason="Lost",
            created_by=ops,
        )
        RefundItem.objects.bulk_create(
            RefundItem(refund=refund, order_item=item, quantity=1, amount_cents=1) for item in order.items.all()
        )
        return refund

    client.force_login(ops)
    small = _warm_count(client, _change_url(refund_of(1)))

    grown, response = _warm_measure(client, _change_url(refund_of(MORE)))
    assert _inline_rows(response) == MORE
    assert grown <= small


def test_admin_checkout_session_change_page_query_count_does_not_grow_with_line_items(
    client: Client, ops: User
) -> None:
    client.force_login(ops)
    small = _warm_count(client, _change_url(_session(_products(1, payable=True))[1]))

    grown, response = _warm_measure(client, _change_url(_session(_products(MORE, payable=True))[1]))
    assert _inline_rows(response) == MORE
    assert grown <= small


def _event_with_deliveries(endpoints: int) -> MerchantEvent:
    merchant = MerchantFactory(name=f"Hooked Merchant {next(_serial)}")
    event = MerchantEvent.objects.create(
        merchant=merchant, type=MerchantEventType.CHECKOUT_SESSION_COMPLETED, payload={}
    )
    for i in range(endpoints):
        endpoint, _secret = endpoint_for(merchant, f"https://{merchant.slug}.example/hooks/{i}")
        delivery = MerchantWebhookDelivery.objects.create(
            event=event, endpoint=endpoint, retry_until=timezone.now() + timedelta(days=3)
        )
        MerchantWebhookAttempt.objects.bulk_create(
            MerchantWebhookAttempt(delivery=delivery, number=n, attempted_at=timezone.now(), status_code=500)
            for n in range(1, endpoints + 1)
        )
    return event


@pytest.mark.parametrize("page", ["event", "delivery"])
def test_admin_merchant_event_and_delivery_change_pages_query_count_does_not_grow_with_rows(
    client: Client, ops: User, page: str
) -> None:
    def url(rows: int) -> str:
        event = _event_with_deliveries(rows)
        return _change_url(event if page == "event" else event.deliveries.first())

    client.force_login(ops)
    small = _warm_count(client, url(1))

    grown, response = _warm_measure(client, url(MORE))
    assert _inline_rows(response) == MORE
    assert grown <= small


def test_admin_clinician_profile_change_page_query_count_does_not_grow_with_licenses(client: Client, ops: User) -> None:
    states = ["TX", "CA", "NY", "FL", "WA", "IL", "OH", "GA", "PA"]

    def url(licenses: int) -> str:
        profile = ClinicianProfileFactory(user__email=f"dr.pat.person{next(_serial)}@example.test")
        for state in states[:licenses]:
            LicenseFactory(clinician=profile, state=state, verified_by=ops)
        return _change_url(profile)

    client.force_login(ops)
    small = _warm_count(client, url(1))

    grown, response = _warm_measure(client, url(MORE))
    assert _inline_rows(response) == MORE
    assert grown <= small
