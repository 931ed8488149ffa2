"""POST/GET /api/v1/checkout_sessions: create (catalog and inline items), idempotency, validation, scoping, lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from consultations.tests.factories import QuestionnaireFactory
from marketplace.models import Eligibility, MerchantStatus
from marketplace.tests.factories import CategoryFactory, MerchantFactory, ProductFactory, make_gtin
from payments.models import CheckoutLineItem, CheckoutSession, CheckoutSource, MerchantCheckout
from payments.tests.merchant_api_support import ApiClient, error_of, new_key, session_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client: Client) -> ApiClient:
    _merchant, secret = new_key(MerchantFactory(name="Dreamwell Co"))
    return ApiClient(client, secret)


def _merchant(api: ApiClient) -> Any:
    from payments.models import MerchantAPIKey

    return MerchantAPIKey.objects.get(last4=api.secret[-4:] if api.secret else "").merchant


def test_creating_a_session_answers_it_with_its_hosted_url(api: ApiClient) -> None:
    response = api.post("/checkout_sessions", session_payload())
    assert response.status_code == 201
    body = response.json()
    session = CheckoutSession.objects.get(pk=body["id"])
    assert body["url"] == f"https://flexlmn.test/pay/{session.pk}/"
    assert (body["status"], body["payment_status"], body["livemode"]) == ("open", "unpaid", False)
    assert body["amount_total_cents"] == 4_998 and body["currency"] == "usd"
    assert body["metadata"] == {"order_ref": "A-1001"} and body["customer_email"] == "sam.shopper@example.test"
    assert session.source == CheckoutSource.MERCHANT_API and session.merchant == _merchant(api)
    line = session.line_items.get()
    assert (line.name, line.unit_price_cents, line.quantity, line.merchant_name) == (
        "Digital thermometer",
        2_499,
        2,
        "Dreamwell Co",
    )
    assert MerchantCheckout.objects.get(session=session).livemode is False


def test_a_catalog_product_is_priced_from_the_catalog(api: ApiClient) -> None:
    sleep = CategoryFactory(slug="sleep-home-wellness")
    QuestionnaireFactory(category=sleep)
    ProductFactory(
        merchant=_merchant(api), category=sleep, name="Sleep Ring", price_cents=29_900, merchant_reference="RING-3"
    )
    response = api.post("/checkout_sessions", session_payload(line_items=[{"product": "RING-3", "quantity": 1}]))
    assert response.status_code == 201
    line = response.json()["line_items"][0]
    assert (line["product"], line["name"], line["unit_price_cents"], line["eligibility"], line["category"]) == (
        "RING-3",
        "Sleep Ring",
        29_900,
        "lmn_required",
        "sleep-home-wellness",
    )
    assert response.json()["requires_letter"] is True


def test_another_merchants_product_reference_is_not_found(api: ApiClient) -> None:
    ProductFactory(merchant=MerchantFactory(), merchant_reference="RING-3")
    response = api.post("/checkout_sessions", session_payload(line_items=[{"product": "RING-3"}]))
    assert response.status_code == 400
    assert error_of(response) | {"message": ""} == {
        "code": "product_not_found",
        "param": "line_items[0].product",
        "message": "",
    }


def test_the_same_idempotency_key_and_body_answer_the_same_session(api: ApiClient) -> None:
    first = api.post("/checkout_sessions", session_payload(), idempotency_key="order-A-1001")
    again = api.post("/checkout_sessions", session_payload(), idempotency_key="order-A-1001")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert CheckoutSession.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_answers_422(api: ApiClient) -> None:
    api.post("/checkout_sessions", session_payload(), idempotency_key="order-A-1001")
    other = api.post("/checkout_sessions", session_payload(metadata={"order_ref": "B"}), idempotency_key="order-A-1001")
    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"
    assert error_of(other)["param"] == "Idempotency-Key"
    assert CheckoutSession.objects.count() == 1


def test_idempotency_keys_are_per_merchant(api: ApiClient, client: Client) -> None:
    _other, other_secret = new_key()
    mine = api.post("/checkout_sessions", session_payload(), idempotency_key="k-1").json()
    theirs = ApiClient(client, other_secret).post("/checkout_sessions", session_payload(), idempotency_key="k-1")
    assert theirs.status_code == 201 and theirs.json()["id"] != mine["id"]


def test_a_failed_request_is_not_remembered_under_its_idempotency_key(api: ApiClient) -> None:
    bad = session_payload(success_url="not a url")
    assert api.post("/checkout_sessions", bad, idempotency_key="k-2").status_code == 400
    assert api.post("/checkout_sessions", session_payload(), idempotency_key="k-2").status_code == 201


def test_an_unprintable_idempotency_key_answers_400(api: ApiClient) -> None:
    response = api.post("/checkout_sessions", session_payload(), idempotency_key="x" * 256)
    assert response.status_code == 400
    assert error_of(response)["param"] == "Idempotency-Key"


def _line(**fields: Any) -> dict[str, Any]:
    line = dict(session_payload()["line_items"][0])
    line.update(fields)
    return {key: value for key, value in line.items() if value is not None}


@pytest.mark.parametrize(
    ("payload", "param", "code"),
    [
        (session_payload(line_items=[]), "line_items", "parameter_invalid"),
        (session_payload(line_items=[_line(quantity=0)]), "line_items[0].quantity", "parameter_invalid"),
        (session_payload(line_items=[_line(quantity=100)]), "line_items[0].quantity", "parameter_invalid"),
        (
            session_payload(line_items=[_line(unit_price_cents=0)]),
            "line_items[0].unit_price_cents",
            "parameter_invalid",
        ),
        (
            session_payload(line_items=[_line(unit_price_cents=12.5)]),
            "line_items[0].unit_price_cents",
            "parameter_invalid",
        ),
        (
            session_payload(line_items=[_line(unit_price_cents="12")]),
            "line_items[0].unit_price_cents",
            "parameter_invalid",
        ),
        (session_payload(line_items=[_line(name=None)]), "line_items[0].name", "parameter_missing"),
        (
            session_payload(line_items=[_line(eligibility="sometimes")]),
            "line_items[0].eligibility",
            "parameter_invalid",
        ),
        (
            session_payload(line_items=[_line(eligibility="not_eligible")]),
            "line_items[0].eligibility",
            "item_not_eligible",
        ),
        (session_payload(line_items=[_line(gtin="12345")]), "line_items[0].gtin", "parameter_invalid"),
        (session_payload(line_items=[_line(gtin=None)]), "line_items[0].gtin", "parameter_missing"),
        (
            session_payload(line_items=[_line(eligibility="lmn_required")]),
            "line_items[0].category",
            "parameter_missing",
        ),
        (session_payload(line_items=[_line(category="gadgets")]), "line_items[0].category", "category_unknown"),
        (session_payload(line_items=[_line(product="RING-3")]), "line_items[0].name", "parameter_invalid"),
        (session_payload(line_items=[_line(colour="red")]), "line_items[0].colour", "parameter_invalid"),
        (session_payload(line_items=[_line(name="Nul\x00byte")]), "line_items[0].name", "parameter_invalid"),
        (session_payload(success_url="ftp://shop.example/ok"), "success_url", "parameter_invalid"),
        (session_payload(success_url="/thanks"), "success_url", "parameter_invalid"),
        (session_payload(cancel_url="javascript:alert(1)"), "cancel_url", "parameter_invalid"),
        (session_payload(customer_email="not-an-email"), "customer_email", "parameter_invalid"),
        (session_payload(metadata={"k": 1}), "metadata.k", "parameter_invalid"),
        (session_payload(metadata={f"k{i}": "v" for i in range(21)}), "metadata", "parameter_invalid"),
        (session_payload(surprise=True), "surprise", "parameter_invalid"),
    ],
)
def test_bad_input_answers_400_naming_the_field(api: ApiClient, payload: dict[str, Any], param: str, code: str) -> None:
    response = api.post("/checkout_sessions", payload)
    assert response.status_code == 400, response.json()
    error = error_of(response)
    assert (error["param"], error["code"]) == (param, code)
    assert error["message"]
    assert not CheckoutSession.objects.exists()


def test_a_missing_success_url_is_named(api: ApiClient) -> None:
    payload = session_payload()
    del payload["success_url"]
    error = error_of(api.post("/checkout_sessions", payload))
    assert (error["code"], error["param"]) == ("parameter_missing", "success_url")


def test_a_body_that_is_not_json_answers_400(api: ApiClient) -> None:
    response = api.post("/checkout_sessions", raw="{not json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_a_letter_item_needs_a_category_with_a_consultation(api: ApiClient) -> None:
    CategoryFactory(slug="posture")
    response = api.post(
        "/checkout_sessions", session_payload(line_items=[_line(eligibility="lmn_required", category="posture")])
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "category_unavailable"


def test_a_suspended_merchant_cannot_create_sessions(client: Client) -> None:
    _merchant, secret = new_key(MerchantFactory(status=MerchantStatus.SUSPENDED))
    response = ApiClient(client, secret).post("/checkout_sessions", session_payload())
    assert response.status_code == 403
    assert error_of(response)["code"] == "merchant_inactive"
    assert ApiClient(client, secret).get("/checkout_sessions").status_code == 200


def test_a_merchant_reads_its_own_session(api: ApiClient) -> None:
    created = api.post("/checkout_sessions", session_payload()).json()
    fetched = api.get(f"/checkout_sessions/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_another_merchants_session_answers_404(api: ApiClient, client: Client) -> None:
    created = api.post("/checkout_sessions", session_payload()).json()
    _other, other_secret = new_key()
    other = ApiClient(client, other_secret)
    response = other.get(f"/checkout_sessions/{created['id']}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "resource_missing"
    assert other.post(f"/checkout_sessions/{created['id']}/refund", {}).status_code == 404
    assert other.get("/checkout_sessions").json()["data"] == []


def test_a_test_key_does_not_see_live_sessions(api: ApiClient, client: Client) -> None:
    created = api.post("/checkout_sessions", session_payload()).json()
    _same, live_secret = new_key(_merchant(api), mode="live")
    live = ApiClient(client, live_secret)
    assert live.get(f"/checkout_sessions/{created['id']}").status_code == 404
    live_created = live.post("/checkout_sessions", session_payload()).json()
    assert live_created["livemode"] is True
    assert [s["id"] for s in live.get("/checkout_sessions").json()["data"]] == [live_created["id"]]


def test_a_flex_shop_session_is_not_visible_through_the_api(
    api: ApiClient, shopper: Any, make_session: Any, catalog: Any
) -> None:
    session = make_session(shopper, (catalog["auto"], 1))
    assert api.get(f"/checkout_sessions/{session.pk}").status_code == 404


@pytest.mark.parametrize("ident", ["nope", "00000000-0000-0000-0000-000000000000", "1" * 64])
def test_an_unknown_or_malformed_id_answers_404(api: ApiClient, ident: str) -> None:
    assert api.get(f"/checkout_sessions/{ident}").status_code == 404


def _create(api: ApiClient, n: int) -> list[str]:
    return [api.post("/checkout_sessions", session_payload(metadata={"n": str(i)})).json()["id"] for i in range(n)]


def test_lists_are_paginated_newest_first_with_starting_after(api: ApiClient) -> None:
    ids = _create(api, 5)
    newest_first = list(reversed(ids))
    first = api.get("/checkout_sessions", {"limit": 2}).json()
    assert [s["id"] for s in first["data"]] == newest_first[:2]
    assert first["has_more"] is True and first["next_starting_after"] == newest_first[1]
    second = api.get("/checkout_sessions", {"limit": 2, "starting_after": first["next_starting_after"]}).json()
    assert [s["id"] for s in second["data"]] == newest_first[2:4]
    last = api.get("/checkout_sessions", {"limit": 2, "starting_after": second["next_starting_after"]}).json()
    assert [s["id"] for s in last["data"]] == newest_first[4:]
    assert last["has_more"] is False and last["next_starting_after"] is None


def test_sessions_created_in_the_same_instant_are_paged_without_gaps(api: ApiClient) -> None:
    ids = _create(api, 4)
    CheckoutSession.objects.update(created_at=timezone.now())
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["starting_after"] = cursor
        page = api.get("/checkout_sessions", params).json()
        seen += [s["id"] for s in page["data"]]
        cursor = page["next_starting_after"]
        if not page["has_more"]:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 4


@pytest.mark.parametrize(("params", "param"), [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"starting_after": "nope"}, "starting_after"), ({"status": "paid"}, "status"), ({"created_gte": "yesterday"}, "created_gte")])  # fmt: skip
def test_bad_list_parameters_answer_400_naming_them(api: ApiClient, params: dict[str, Any], param: str) -> None:
    response = api.get("/checkout_sessions", params)
    assert response.status_code == 400
    assert error_of(response)["param"] == param


def test_lists_filter_by_status(api: ApiClient) -> None:
    open_id, expired_id = _create(api, 2)
    CheckoutSession.objects.filter(pk=expired_id).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert [s["id"] for s in api.get("/checkout_sessions", {"status": "open"}).json()["data"]] == [open_id]
    expired = api.get("/checkout_sessions", {"status": "expired"}).json()["data"]
    assert [(s["id"], s["status"]) for s in expired] == [(expired_id, "expired")]
    assert api.get("/checkout_sessions", {"status": "complete"}).json()["data"] == []


def test_lists_filter_by_creation_date(api: ApiClient) -> None:
    old_id, new_id = _create(api, 2)
    CheckoutSession.objects.filter(pk=old_id).update(created_at=timezone.now() - timedelta(days=10))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert [s["id"] for s in api.get("/checkout_sessions", {"created_gte": since}).json()["data"]] == [new_id]
    assert [s["id"] for s in api.get("/checkout_sessions", {"created_lte": since}).json()["data"]] == [old_id]


def test_listing_runs_a_fixed_number_of_queries(api: ApiClient, django_assert_max_num_queries: Any) -> None:
    _create(api, 12)
    with django_assert_max_num_queries(14):
        page = api.get("/checkout_sessions", {"limit": 12}).json()
    assert len(page["data"]) == 12


def test_line_items_are_snapshots(api: ApiClient) -> None:
    product = ProductFactory(
        merchant=_merchant(api),
        eligibility=Eligibility.AUTO_SUBSTANTIATION,
        gtin=make_gtin(7),
        merchant_reference="T-1",
    )
    created = api.post("/checkout_sessions", session_payload(line_items=[{"product": "T-1"}])).json()
    product.price_cents = 1
    product.save()
    assert api.get(f"/checkout_sessions/{created['id']}").json()["line_items"][0]["unit_price_cents"] == 12_900
    assert CheckoutLineItem.objects.get().product == product
