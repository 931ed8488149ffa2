"""``/api/v1/checkout_sessions``: create, read, list and refund a merchant's checkout sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import P, Router, Status
from ninja.params import HeaderEx, PathEx, QueryEx

from consultations.models import Questionnaire
from marketplace.models import Category, Eligibility, Merchant, Product
from marketplace.validators import validate_gtin

from .. import services
from ..models import CheckoutLineItem, CheckoutSession, CheckoutSource, MerchantCheckout, Order, OrderItem
from . import common
from .errors import ApiError, invalid, not_found
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import idempotent
from .representations import (
    REFUNDABLE_ORDER_STATUSES,
    refund_data,
    session_data,
    session_queryset,
    session_status_annotation,
)
from .schemas import (
    CheckoutSessionCreate,
    CheckoutSessionList,
    CheckoutSessionOut,
    LineItemIn,
    RefundCreate,
    RefundOut,
    SessionStatus,
    TestReviewIn,
)

router = Router(tags=["Checkout sessions"])

IDEMPOTENCY_HELP = (
    "Any unique string (a UUID) per intended request: a retry with the same key and body answers the first "
    "result again; the same key with another body answers 422."
)

_url_validator = URLValidator(schemes=["http", "https"])


def _validate_url(value: str, param: str) -> str:
    probe = value.replace("{CHECKOUT_SESSION_ID}", "00000000-0000-0000-0000-000000000000")
    try:
        _url_validator(probe)
    except ValidationError:
        raise invalid(param, "must be an absolute http:// or https:// URL") from None
    return value


def _category(slug: str, param: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        known = ", ".join(Category.objects.order_by("slug").values_list("slug", flat=True)[:50])
        raise invalid(param, f"is not a Flex Shop category. Use one of: {known}.", code="category_unknown")
    return category


def _check_consultation_available(category: Category | None, param: str) -> None:
    if category is None or Questionnaire.objects.current_for(category) is None:
        raise invalid(
            param,
            "items in this category need a Letter of Medical Necessity, but no clinician consultation is available "
            "for it yet",
            code="category_unavailable",
        )


def _catalog_line(item: LineItemIn, merchant: Merchant, at: str) -> CheckoutLineItem:
    for field in ("name", "unit_price_cents", "eligibility", "gtin", "category", "merchant_reference"):
        if getattr(item, field) is not None:
            raise invalid(f"{at}.{field}", "give either `product` or an inline item, not both")
    assert item.product is not None
    product = (
        Product.objects.select_related("merchant", "category")
        .filter(merchant=merchant, merchant_reference=item.product)
        .first()
    )
    if product is None:
        raise invalid(
            f"{at}.product",
            "no product of yours has this merchant_reference; sync it with POST /api/v1/products first",
            code="product_not_found",
        )
    if not product.active:
        raise invalid(f"{at}.product", "this product is inactive", code="product_inactive")
    if product.eligibility == Eligibility.NOT_ELIGIBLE:
        raise invalid(f"{at}.product", "HSA/FSA funds cannot pay for this product", code="item_not_eligible")
    if product.eligibility == Eligibility.LMN_REQUIRED:
        _check_consultation_available(product.category, f"{at}.product")
    return services.checkout_line_from_product(product, item.quantity)


def _inline_line(item: LineItemIn, merchant: Merchant, at: str) -> CheckoutLineItem:
    for field in ("name", "unit_price_cents", "eligibility"):
        if getattr(item, field) is None:
            raise invalid(
                f"{at}.{field}",
                "is required for an inline item (or give `product`, a synced product's reference)",
                code="parameter_missing",
            )
    assert item.name is not None and item.unit_price_cents is not None and item.eligibility is not None
    eligibility = Eligibility(item.eligibility)
    if eligibility == Eligibility.NOT_ELIGIBLE:
        raise invalid(
            f"{at}.eligibility", "HSA/FSA funds cannot pay for items that are not eligible", code="item_not_eligible"
        )
    gtin = (item.gtin or "").strip()
    try:
        validate_gtin(gtin)
    except ValidationError as exc:
        raise invalid(f"{at}.gtin", " ".join(exc.messages)) from None
    if eligibility == Eligibility.AUTO_SUBSTANTIATION and not gtin:
        raise invalid(
            f"{at}.gtin", "is required for an auto-substantiated item (its IIAS GTIN)", code="parameter_missing"
        )
    category = _category(item.category, f"{at}.category") if item.category else None
    if eligibility == Eligibility.LMN_REQUIRED:
        if category is None:
            raise invalid(
                f"{at}.category",
                "is required for an item that needs a letter: it decides the clinician's questionnaire",
                code="parameter_missing",
            )
        _check_consultation_available(category, f"{at}.category")
    return CheckoutLineItem(
        product=None,
        name=item.name.strip() or item.name,
        merchant=merchant,
        merchant_name=merchant.name,
        merchant_reference=item.merchant_reference or "",
        category=category,
        category_name=category.name if category is not None else "",
        unit_price_cents=item.unit_price_cents,
        quantity=item.quantity,
        gtin=gtin,
        eligibility=str(eligibility),
    )


def _lines(payload: CheckoutSessionCreate, merchant: Merchant) -> list[CheckoutLineItem]:
    lines = []
    for index, item in enumerate(payload.line_items):
        at = f"line_items[{index}]"
        lines.append(
            _catalog_line(item, merchant, at) if item.product is not None else _inline_line(item, merchant, at)
        )
    return lines


def _get_session_for_key(request: HttpRequest, session_id: str) -> CheckoutSession:
    """The caller's own session in the key's mode; anything else is 404 (never 403: ids are not confirmed)."""
    key = common.api_key(request)
    pk = common.parse_uuid(session_id)
    session = (
        session_queryset()
        .filter(
            pk=pk,
            source=CheckoutSource.MERCHANT_API,
            merchant=key.merchant,
            merchant_checkout__livemode=key.livemode,
        )
        .first()
        if pk is not None
        else None
    )
    if session is None:
        raise not_found("checkout session", session_id)
    return session


def _replay_header(response: HttpResponse, replayed: bool) -> None:
    if replayed:
        response["Idempotent-Replayed"] = "true"


@router.post(
    "/checkout_sessions",
    response={201: CheckoutSessionOut, **common.errors(400, 403, 422)},
    operation_id="createCheckoutSession",
    summary="Create a checkout session",
    description="Creates the hosted checkout for your line items and answers its `url`: redirect the shopper "
    "there. Send an `Idempotency-Key` header so that a retried request returns the same session.",
)
def create_checkout_session(
    request: HttpRequest,
    payload: CheckoutSessionCreate,
    response: HttpResponse,
    idempotency_key: HeaderEx[str | None, P(alias=IDEMPOTENCY_HEADER, description=IDEMPOTENCY_HELP)] = None,
) -> Status[dict[str, Any]]:
    key = common.api_key(request)
    merchant = key.merchant
    if not merchant.is_active:
        raise ApiError(403, "merchant_inactive", "Your merchant account is not active, so it cannot take payments.")

    def work() -> tuple[int, dict[str, Any]]:
        success_url = _validate_url(payload.success_url, "success_url")
        cancel_url = _validate_url(payload.cancel_url, "cancel_url") if payload.cancel_url else ""
        email = (payload.customer_email or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise invalid("customer_email", "is not an email address") from None
        lines = _lines(payload, merchant)
        try:
            session = services.checkout_session_create(
                source=CheckoutSource.MERCHANT_API,
                lines=lines,
                customer_email=email,
                merchant=merchant,
                success_url=success_url,
                cancel_url=cancel_url,
                metadata=dict(payload.metadata),
                request=request,
            )
        except services.CheckoutError as exc:
            raise invalid("line_items", str(exc)) from None
        MerchantCheckout.objects.create(session=session, api_key=key, livemode=key.livemode)
        return 201, session_data(session_queryset().get(pk=session.pk))

    answer = idempotent(
        key=idempotency_key,
        api_key=key,
        method="POST",
        path="/checkout_sessions",
        payload=payload.model_dump(mode="json"),
        work=work,
    )
    _replay_header(response, answer.replayed)
    return Status(answer.status, answer.body)


@router.get(
    "/checkout_sessions",
    response={200: CheckoutSessionList, **common.errors(400)},
    operation_id="listCheckoutSessions",
    summary="List checkout sessions",
    description="Your sessions in the key's mode, newest first. Page with `limit` and `starting_after` "
    "(the last id of the previous page, given as `next_starting_after`).",
)
def list_checkout_sessions(
    request: HttpRequest,
    limit: QueryEx[int, P(ge=1, le=common.MAX_LIMIT)] = common.DEFAULT_LIMIT,
    starting_after: QueryEx[str | None, P(max_length=64, description="A session id: the page starts after it.")] = None,
    status: QueryEx[SessionStatus | None, P(description="The session's API status.")] = None,
    created_gte: QueryEx[datetime | None, P(description="Created at or after (ISO 8601).")] = None,
    created_lte: QueryEx[datetime | None, P(description="Created at or before (ISO 8601).")] = None,
) -> dict[str, Any]:
    key = common.api_key(request)
    sessions = session_queryset().filter(
        source=CheckoutSource.MERCHANT_API, merchant=key.merchant, merchant_checkout__livemode=key.livemode
    )
    if status is not None:
        sessions = sessions.alias(api_status=session_status_annotation()).filter(api_status=status)
    if (after := common.aware(created_gte, "created_gte")) is not None:
        sessions = sessions.filter(created_at__gte=after)
    if (before := common.aware(created_lte, "created_lte")) is not None:
        sessions = sessions.filter(created_at__lte=before)
    if starting_after is not None:
        pk = common.parse_uuid(starting_after)
        anchor = (
            CheckoutSession.objects.filter(
                pk=pk,
                merchant=key.merchant,
                source=CheckoutSource.MERCHANT_API,
                merchant_checkout__livemode=key.livemode,
            )
            .values("created_at", "pk")
            .first()
            if pk is not None
            else None
        )
        if anchor is None:
            raise invalid("starting_after", "is not one of your checkout sessions", code="resource_missing")
        sessions = sessions.filter(
            Q(created_at__lt=anchor["created_at"]) | Q(created_at=anchor["created_at"], pk__lt=anchor["pk"])
        )
    page = list(sessions.order_by("-created_at", "-pk")[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    return {
        "object": "list",
        "data": [session_data(session) for session in page],
        "has_more": has_more,
        "next_starting_after": str(page[-1].pk) if has_more else None,
    }


@router.get(
    "/checkout_sessions/{session_id}",
    response={200: CheckoutSessionOut, **common.errors(404)},
    operation_id="getCheckoutSession",
    summary="Retrieve a checkout session",
)
def get_checkout_session(
    request: HttpRequest,
    session_id: PathEx[str, P(description="The checkout session id.")],
) -> dict[str, Any]:
    return session_data(_get_session_for_key(request, session_id))


def _refund_lines(payload: RefundCreate, items: dict[int, OrderItem]) -> dict[int, int] | None:
    if payload.line_items is None:
        return None
    lines: dict[int, int] = {}
    for index, line in enumerate(payload.line_items):
        at = f"line_items[{index}]"
        item = items.get(line.position)
        if item is None:
            raise invalid(f"{at}.position", "no line item of this session has this position")
        if item.pk in lines:
            raise invalid(f"{at}.position", "names a line item already listed")
        if line.quantity > item.refundable_quantity:
            raise invalid(
                f"{at}.quantity",
                f"only {item.refundable_quantity} of this line item can still be refunded",
                code="refund_exceeds_quantity",
            )
        lines[item.pk] = line.quantity
    return lines


@router.post(
    "/checkout_sessions/{session_id}/refund",
    response={201: RefundOut, **common.errors(400, 404, 409, 422)},
    operation_id="refundCheckoutSession",
    summary="Refund a checkout session, whole or by line item",
    description="Refunds a `complete` session through the payment processor: everything still refundable, or "
    "the quantities of the line items you list. Answers the refund; `refund.succeeded` follows as a webhook.",
)
def refund_checkout_session(
    request: HttpRequest,
    payload: RefundCreate,
    response: HttpResponse,
    session_id: PathEx[str, P(description="The checkout session id.")],
    idempotency_key: HeaderEx[str | None, P(alias=IDEMPOTENCY_HEADER, description=IDEMPOTENCY_HELP)] = None,
) -> Status[dict[str, Any]]:
    key = common.api_key(request)
    session = _get_session_for_key(request, session_id)

    def work() -> tuple[int, dict[str, Any]]:
        try:
            order = session.order
        except Order.DoesNotExist:
            order = None
        if order is None or order.status not in REFUNDABLE_ORDER_STATUSES:
            raise ApiError(
                409,
                "checkout_session_not_refundable",
                "Only a complete (paid) checkout session can be refunded; an authorized hold is released by the "
                "clinician's decision instead.",
            )
        items = {item.position: item for item in OrderItem.objects.filter(order=order)}
        lines = _refund_lines(payload, items)
        reason = (payload.reason or "").strip() or f"Refund requested by {key.merchant.name}."
        try:
            refund = services.order_refund(order=order, reason=reason, actor=None, lines=lines, request=request)
        except services.RefundError as exc:
            raise ApiError(409, "refund_failed", str(exc)) from None
        refund = type(refund).objects.prefetch_related("items__order_item").get(pk=refund.pk)
        return 201, refund_data(refund, session.pk)

    answer = idempotent(
        key=idempotency_key,
        api_key=key,
        method="POST",
        path=f"/checkout_sessions/{session.pk}/refund",
        payload=payload.model_dump(mode="json"),
        work=work,
    )
    _replay_header(response, answer.replayed)
    return Status(answer.status, answer.body)


@router.post(
    "/checkout_sessions/{session_id}/test_review",
    response={200: CheckoutSessionOut, **common.errors(400, 403, 404, 409, 422)},
    operation_id="testReviewCheckoutSession",
    summary="Test mode: approve or deny the review of a session",
    description="Test keys only. A test-mode session that needs a letter waits in `awaiting_review`, but its "
    "made-up patient never reaches a clinician: this decides the review instead, so you can try both outcomes. "
    "`approve` captures the test payment (`consultation.approved`, then `checkout_session.completed`); `deny` "
    "releases it (`consultation.denied`, then `checkout_session.canceled`). No letter is ever issued. Answers "
    "the session.",
)
def test_review_checkout_session(
    request: HttpRequest,
    payload: TestReviewIn,
    response: HttpResponse,
    session_id: PathEx[str, P(description="The checkout session id.")],
    idempotency_key: HeaderEx[str | None, P(alias=IDEMPOTENCY_HEADER, description=IDEMPOTENCY_HELP)] = None,
) -> Status[dict[str, Any]]:
    from consultations.models import Consultation, ConsultationStatus
    from consultations.services import ConsultationError, consultation_decide_in_test_mode

    key = common.api_key(request)
    if key.livemode:
        raise ApiError(
            403,
            "test_mode_only",
            "Only test keys can decide a review; a live session is reviewed by a licensed clinician.",
        )
    session = _get_session_for_key(request, session_id)

    def work() -> tuple[int, dict[str, Any]]:
        consultation = (
            Consultation.objects.filter(checkout_session=session, status=ConsultationStatus.SUBMITTED)
            .order_by("-created_at")
            .first()
        )
        if consultation is None:
            raise ApiError(
                409,
                "checkout_session_not_awaiting_review",
                "Only a session in `awaiting_review` (paid, with a letter item and its health questions answered) "
                "can be reviewed.",
            )
        try:
            consultation_decide_in_test_mode(
                consultation=consultation, approve=payload.decision == "approve", request=request
            )
        except ConsultationError as exc:
            raise ApiError(409, "review_refused", str(exc)) from None
        return 200, session_data(session_queryset().get(pk=session.pk))

    answer = idempotent(
        key=idempotency_key,
        api_key=key,
        method="POST",
        path=f"/checkout_sessions/{session.pk}/test_review",
        payload=payload.model_dump(mode="json"),
        work=work,
    )
    _replay_header(response, answer.replayed)
    return Status(answer.status, answer.body)
