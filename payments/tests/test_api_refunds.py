"""POST /api/v1/checkout_sessions/<id>/refund: whole or per line item, through the provider, with a webhook."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from marketplace.tests.factories import MerchantFactory, make_gtin
from payments import services
from payments.models import CheckoutSession, Order, OrderStatus, Payment, PaymentStatus, Refund
from payments.tests.conftest import APPROVED, DETAILS
from payments.tests.merchant_api_support import (
    ApiClient,
    endpoint_for,
    error_of,
    new_key,
    session_payload,
    webhook_receiver,
)

pytestmark = pytest.mark.django_db


def _items() -> list[dict[str, Any]]:
    return [
        {"name": "Thermometer", "unit_price_cents": 2_499, "quantity": 3, "eligibility": "auto_substantiation", "gtin": make_gtin(11)},
        {"name": "Blood pressure cuff", "unit_price_cents": 5_900, "quantity": 1, "eligibility": "auto_substantiation", "gtin": make_gtin(12)},
    ]  # fmt: skip


@pytest.fixture
def merchant_and_api(client: Client) -> tuple[Any, ApiClient]:
    merchant, secret = new_key(MerchantFactory(name="Cuffs & Co"))
    return merchant, ApiClient(client, secret)


def _paid_session(api: ApiClient, shopper: User) -> dict[str, Any]:
    """A session created through the API and paid by the shopper (captured at once: no letter)."""
    created = api.post("/checkout_sessions", session_payload(line_items=_items())).json()
    session = CheckoutSession.objects.get(pk=created["id"])
    services.checkout_session_claim(session=session, user=shopper)
    order = services.checkout_session_set_details(session=session, details=DETAILS, actor=shopper)
    assert services.order_pay(order=order, actor=shopper, card=APPROVED).outcome == "authorized"
    return api.get(f"/checkout_sessions/{created['id']}").json()


def test_refunding_a_whole_session(merchant_and_api: Any, shopper: User) -> None:
    _merchant, api = merchant_and_api
    session = _paid_session(api, shopper)
    assert (session["status"], session["payment_status"], session["amount_total_cents"]) == ("complete", "paid", 13_397)
    response = api.post(f"/checkout_sessions/{session['id']}/refund", {"reason": "Returned unopened"})
    assert response.status_code == 201
    refund = response.json()
    assert (refund["amount_cents"], refund["status"], refund["reason"]) == (13_397, "succeeded", "Returned unopened")
    assert sorted((line["position"], line["quantity"]) for line in refund["line_items"]) == [(0, 3), (1, 1)]
    after = api.get(f"/checkout_sessions/{session['id']}").json()
    assert (after["payment_status"], after["amount_refunded_cents"]) == ("refunded", 13_397)
    assert [line["quantity_refunded"] for line in after["line_items"]] == [3, 1]
    assert after["refunds"] == [refund]
    order = Order.objects.get(checkout_session_id=session["id"])
    assert order.status == OrderStatus.REFUNDED
    assert Payment.objects.get(order=order, status=PaymentStatus.REFUNDED).amount_refunded_cents == 13_397


def test_refunding_some_of_one_line_item(merchant_and_api: Any, shopper: User) -> None:
    _merchant, api = merchant_and_api
    session = _paid_session(api, shopper)
    response = api.post(f"/checkout_sessions/{session['id']}/refund", {"line_items": [{"position": 0, "quantity": 2}]})
    assert response.status_code == 201
    assert response.json()["amount_cents"] == 4_998
    assert response.json()["reason"] == "Refund requested by Cuffs & Co."
    after = api.get(f"/checkout_sessions/{session['id']}").json()
    assert after["payment_status"] == "partially_refunded"
    assert [(line["quantity_refunded"], line["amount_refunded_cents"]) for line in after["line_items"]] == [
        (2, 4_998),
        (0, 0),
    ]
    # The rest later: refunded in full.
    rest = api.post(f"/checkout_sessions/{session['id']}/refund", {})
    assert rest.status_code == 201 and rest.json()["amount_cents"] == 2_499 + 5_900
    assert api.get(f"/checkout_sessions/{session['id']}").json()["payment_status"] == "refunded"


@pytest.mark.parametrize(
    ("lines", "param", "code"),
    [
        ([{"position": 0, "quantity": 4}], "line_items[0].quantity", "refund_exceeds_quantity"),
        ([{"position": 7, "quantity": 1}], "line_items[0].position", "parameter_invalid"),
        (
            [{"position": 0, "quantity": 1}, {"position": 0, "quantity": 1}],
            "line_items[1].position",
            "parameter_invalid",
        ),
        ([{"position": 0, "quantity": 0}], "line_items[0].quantity", "parameter_invalid"),
        ([], "line_items", "parameter_invalid"),
    ],
)
def test_bad_refund_lines_answer_400_naming_the_field(
    merchant_and_api: Any, shopper: User, lines: list[dict[str, int]], param: str, code: str
) -> None:
    _merchant, api = merchant_and_api
    session = _paid_session(api, shopper)
    response = api.post(f"/checkout_sessions/{session['id']}/refund", {"line_items": lines})
    assert response.status_code == 400
    assert (error_of(response)["param"], error_of(response)["code"]) == (param, code)
    assert not Refund.objects.exists()


def test_an_unpaid_session_cannot_be_refunded(merchant_and_api: Any) -> None:
    _merchant, api = merchant_and_api
    created = api.post("/checkout_sessions", session_payload()).json()
    response = api.post(f"/checkout_sessions/{created['id']}/refund", {})
    assert response.status_code == 409
    assert error_of(response)["code"] == "checkout_session_not_refundable"


def test_a_fully_refunded_session_cannot_be_refunded_again(merchant_and_api: Any, shopper: User) -> None:
    _merchant, api = merchant_and_api
    session = _paid_session(api, shopper)
    api.post(f"/checkout_sessions/{session['id']}/refund", {})
    again = api.post(f"/checkout_sessions/{session['id']}/refund", {})
    assert again.status_code == 409
    assert Refund.objects.count() == 1


def test_a_retried_refund_with_its_idempotency_key_refunds_once(merchant_and_api: Any, shopper: User) -> None:
    _merchant, api = merchant_and_api
    session = _paid_session(api, shopper)
    body = {"line_items": [{"position": 1, "quantity": 1}]}
    first = api.post(f"/checkout_sessions/{session['id']}/refund", body, idempotency_key="refund-1")
    again = api.post(f"/checkout_sessions/{session['id']}/refund", body, idempotency_key="refund-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert Refund.objects.count() == 1


def test_another_merchant_cannot_refund_the_session(merchant_and_api: Any, shopper: User, client: Client) -> None:
    _merchant, api = merchant_and_api
    session = _paid_session(api, shopper)
    _other, other_secret = new_key()
    response = ApiClient(client, other_secret).post(f"/checkout_sessions/{session['id']}/refund", {})
    assert response.status_code == 404
    assert not Refund.objects.exists()


def test_a_refund_sends_refund_succeeded(
    merchant_and_api: Any, shopper: User, django_capture_on_commit_callbacks: Any
) -> None:
    merchant, api = merchant_and_api
    session = _paid_session(api, shopper)
    with webhook_receiver() as receiver:
        endpoint_for(merchant, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            refund = api.post(f"/checkout_sessions/{session['id']}/refund", {}).json()
    assert receiver.types() == ["refund.succeeded"]
    data = receiver.events()[0]["data"]
    assert data["object"] == {"id": refund["id"], "object": "refund", "status": "succeeded"}
    assert data["checkout_session"]["payment_status"] == "refunded"
