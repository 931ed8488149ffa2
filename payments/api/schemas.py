"""Request and response shapes of the merchant API (pydantic, through django-ninja).

Amounts are integers in cents (USD). Requests with unknown fields are refused,
so a typo in a field name answers 400 instead of being silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field

from marketplace.models import Eligibility


def _clean_text(value: str) -> str:
    # PostgreSQL cannot store NUL, and a lone surrogate cannot be encoded: both are bad input, not a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


Text = Annotated[str, AfterValidator(_clean_text)]
EligibilityValue = Literal["auto_substantiation", "lmn_required", "not_eligible"]
Cents = Annotated[int, Field(ge=1, le=10_000_000, description="An amount in cents (USD).")]
Quantity = Annotated[int, Field(ge=1, le=99)]

assert set(EligibilityValue.__args__) == set(Eligibility.values)  # type: ignore[attr-defined]


class StrictIn(Schema):
    # JSON types as documented: "12" is not an integer and "true" is not a boolean.
    model_config = ConfigDict(extra="forbid", strict=True)


# --------------------------------------------------------------------------- checkout sessions


class LineItemIn(StrictIn):
    """Either ``product`` (a product synced through ``/products``, priced from the catalog) or an inline item."""

    product: Annotated[Text, Field(min_length=1, max_length=100)] | None = Field(
        default=None,
        description="Your reference (`merchant_reference`) of a product you synced with `POST /api/v1/products`. "
        "Its name, price, GTIN, category and eligibility come from the catalog.",
    )
    name: Annotated[Text, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="An inline item's name (instead of `product`)."
    )
    unit_price_cents: Cents | None = Field(default=None, description="An inline item's unit price in cents.")
    eligibility: EligibilityValue | None = Field(
        default=None,
        description="An inline item's HSA/FSA eligibility: `auto_substantiation` (on the IIAS list; needs `gtin`), "
        "`lmn_required` (needs a Letter of Medical Necessity; needs `category`). `not_eligible` items are refused.",
    )
    gtin: Annotated[Text, Field(max_length=14)] | None = Field(
        default=None, description="GTIN (8, 12, 13 or 14 digits)."
    )
    category: Annotated[Text, Field(max_length=100)] | None = Field(
        default=None, description="An inline item's Flex Shop category slug (decides the clinician questionnaire)."
    )
    merchant_reference: Annotated[Text, Field(max_length=100)] | None = Field(
        default=None, description="Your SKU for an inline item, echoed back."
    )
    quantity: Quantity = 1


class CheckoutSessionCreate(StrictIn):
    line_items: list[LineItemIn] = Field(min_length=1, max_length=50)
    customer_email: Annotated[Text, Field(max_length=254)] | None = Field(
        default=None, description="Prefills the shopper's email on the hosted page."
    )
    success_url: Annotated[Text, Field(min_length=1, max_length=2000)] = Field(
        description="Where the shopper returns after paying. `{CHECKOUT_SESSION_ID}` is replaced by the session id.",
        examples=["https://shop.example/thanks?session={CHECKOUT_SESSION_ID}"],
    )
    cancel_url: Annotated[Text, Field(min_length=1, max_length=2000)] | None = Field(
        default=None, description="Where the shopper goes when they leave the hosted page without paying."
    )
    metadata: dict[Annotated[Text, Field(min_length=1, max_length=40)], Annotated[Text, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=20, description="Up to 20 string pairs of your own, returned as given."
    )


class LineItemOut(Schema):
    position: int = Field(description="The item's place in the session, from 0; refunds name items by it.")
    product: str | None = Field(description="The catalog product's `merchant_reference`, for catalog items.")
    name: str
    merchant_reference: str | None
    category: str | None = Field(description="Flex Shop category slug.")
    unit_price_cents: int
    quantity: int
    amount_total_cents: int
    gtin: str | None
    eligibility: EligibilityValue
    quantity_refunded: int
    amount_refunded_cents: int


class RefundLineOut(Schema):
    position: int
    quantity: int
    amount_cents: int


class RefundOut(Schema):
    id: str
    object: Literal["refund"] = "refund"
    checkout_session: str
    amount_cents: int
    status: Literal["pending", "succeeded", "failed"]
    reason: str
    created: datetime
    line_items: list[RefundLineOut]


SessionStatus = Literal["open", "awaiting_review", "complete", "canceled", "expired"]
PaymentStatusOut = Literal["unpaid", "authorized", "paid", "partially_refunded", "refunded", "canceled", "expired"]


class CheckoutSessionOut(Schema):
    id: str
    object: Literal["checkout_session"] = "checkout_session"
    livemode: bool
    url: str = Field(description="The hosted checkout page: send the shopper here.")
    status: SessionStatus = Field(
        description="`open` (not paid yet), `awaiting_review` (card authorized, a clinician is reviewing the "
        "letter), `complete` (paid), `canceled` (ended without a charge), `expired` (never paid)."
    )
    payment_status: PaymentStatusOut
    cancellation_reason: str | None = Field(
        description="Why a `canceled` session ended: `letter_denied`, `hold_expired`, `payment_canceled`."
    )
    requires_letter: bool = Field(description="Some items need a clinician-approved Letter of Medical Necessity.")
    customer_email: str | None
    success_url: str
    cancel_url: str | None
    metadata: dict[str, str]
    currency: Literal["usd"]
    amount_total_cents: int
    amount_refunded_cents: int
    line_items: list[LineItemOut]
    refunds: list[RefundOut]
    created: datetime
    expires_at: datetime
    completed_at: datetime | None


class CheckoutSessionList(Schema):
    object: Literal["list"] = "list"
    data: list[CheckoutSessionOut]
    has_more: bool
    next_starting_after: str | None = Field(description="Pass as `starting_after` for the next page.")


class RefundLineIn(StrictIn):
    position: int = Field(ge=0, le=49, description="The line item's `position`.")
    quantity: Quantity


class RefundCreate(StrictIn):
    line_items: list[RefundLineIn] | None = Field(
        default=None, min_length=1, max_length=50, description="Items to refund; omit to refund everything left."
    )
    reason: Annotated[Text, Field(max_length=500)] | None = Field(
        default=None, description="Shown to the shopper in the refund email."
    )


class TestReviewIn(StrictIn):
    decision: Literal["approve", "deny"] = Field(
        description="What the simulated review decides: `approve` captures the test payment, `deny` releases it."
    )


# --------------------------------------------------------------------------- products


class ProductIn(StrictIn):
    merchant_reference: Annotated[Text, Field(min_length=1, max_length=100)] = Field(
        description="Your SKU or id: the product is created or updated by it."
    )
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    category: Annotated[Text, Field(min_length=1, max_length=100)] = Field(description="Flex Shop category slug.")
    price_cents: Cents
    eligibility: EligibilityValue = Field(
        description="`auto_substantiation` needs a `gtin` from the IIAS list; `lmn_required` needs a letter."
    )
    gtin: Annotated[Text, Field(max_length=14)] = ""
    description: Annotated[Text, Field(max_length=5000)] = ""
    url: Annotated[Text, Field(max_length=200)] = Field(default="", description="The product's page on your site.")
    active: bool = True


class ProductOut(Schema):
    id: str
    object: Literal["product"] = "product"
    merchant_reference: str | None
    name: str
    category: str
    price_cents: int
    eligibility: EligibilityValue
    gtin: str | None
    description: str
    url: str | None
    active: bool
    sellable: bool = Field(description="Active and sold in the Flex Shop now (your merchant account is active).")
    shop_url: str | None
    created: datetime
    updated: datetime


class ProductList(Schema):
    object: Literal["list"] = "list"
    data: list[ProductOut]
    has_more: bool
    next_starting_after: str | None
