"""``/api/v1/products``: keep the merchant's Flex Shop catalog and eligibility in sync with its own."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from ninja import P, Router, Status
from ninja.params import HeaderEx, QueryEx

from marketplace import services as marketplace
from marketplace.models import Category, Product

from . import common
from .checkout_sessions import IDEMPOTENCY_HELP
from .errors import ApiError, invalid
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import idempotent
from .representations import product_data
from .schemas import EligibilityValue, ProductIn, ProductList, ProductOut

router = Router(tags=["Products"])

# Model field → API field, for naming the field at fault in a model validation error.
_API_FIELD = {"merchant_url": "url", "price_cents": "price_cents", "gtin": "gtin", "name": "name"}


def _product_queryset() -> Any:
    return Product.objects.select_related("merchant", "category")


def _model_error(exc: ValidationError) -> ApiError:
    if hasattr(exc, "error_dict"):
        field, messages = next(iter(exc.message_dict.items()))
        param = _API_FIELD.get(field, field if field != "__all__" else "body")
        return invalid(param, " ".join(messages))
    return invalid("body", " ".join(exc.messages))


@router.post(
    "/products",
    response={200: ProductOut, 201: ProductOut, **common.errors(400, 409, 422)},
    operation_id="upsertProduct",
    summary="Create or update a product",
    description="Creates the product with this `merchant_reference`, or updates it (201 created, 200 updated). "
    "Sellable products appear in the Flex Shop with their eligibility badge; `active: false` takes one off sale.",
)
def upsert_product(
    request: HttpRequest,
    payload: ProductIn,
    response: HttpResponse,
    idempotency_key: HeaderEx[str | None, P(alias=IDEMPOTENCY_HEADER, description=IDEMPOTENCY_HELP)] = None,
) -> Status[dict[str, Any]]:
    key = common.api_key(request)
    merchant = key.merchant

    def work() -> tuple[int, dict[str, Any]]:
        category = Category.objects.filter(slug=payload.category).first()
        if category is None:
            known = ", ".join(Category.objects.order_by("slug").values_list("slug", flat=True)[:50])
            raise invalid("category", f"is not a Flex Shop category. Use one of: {known}.", code="category_unknown")
        if payload.url:
            try:
                URLValidator(schemes=["http", "https"])(payload.url)
            except ValidationError:
                raise invalid("url", "must be an absolute http:// or https:// URL") from None
        fields: dict[str, Any] = {
            "category": category,
            "name": payload.name.strip() or payload.name,
            "price_cents": payload.price_cents,
            "eligibility": payload.eligibility,
            "gtin": payload.gtin.strip(),
            "description": payload.description,
            "merchant_url": payload.url,
            "active": payload.active,
        }
        product = (
            Product.objects.select_for_update()
            .filter(merchant=merchant, merchant_reference=payload.merchant_reference)
            .first()
        )
        try:
            if product is None:
                product = marketplace.product_create(
                    merchant=merchant, merchant_reference=payload.merchant_reference, request=request, **fields
                )
                status = 201
            else:
                product = marketplace.product_update(product=product, changes=fields, request=request)
                status = 200
        except ValidationError as exc:
            raise _model_error(exc) from None
        except IntegrityError:
            raise ApiError(409, "conflict", "Another request changed this product at the same time; retry.") from None
        return status, product_data(_product_queryset().get(pk=product.pk))

    answer = idempotent(
        key=idempotency_key,
        api_key=key,
        method="POST",
        path="/products",
        payload=payload.model_dump(mode="json"),
        work=work,
    )
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(answer.status, answer.body)


@router.get(
    "/products",
    response={200: ProductList, **common.errors(400)},
    operation_id="listProducts",
    summary="List your products",
    description="Your products in the Flex Shop catalog, newest first, paged like checkout sessions.",
)
def list_products(
    request: HttpRequest,
    limit: QueryEx[int, P(ge=1, le=common.MAX_LIMIT)] = common.DEFAULT_LIMIT,
    starting_after: QueryEx[str | None, P(max_length=64, description="A product id: the page starts after it.")] = None,
    eligibility: QueryEx[EligibilityValue | None, P(description="Only products with this eligibility.")] = None,
    active: QueryEx[bool | None, P(description="Only active (or inactive) products.")] = None,
    merchant_reference: QueryEx[str | None, P(max_length=100, description="Your reference.")] = None,
) -> dict[str, Any]:
    merchant = common.merchant(request)
    products = _product_queryset().filter(merchant=merchant)
    if eligibility is not None:
        products = products.filter(eligibility=eligibility)
    if active is not None:
        products = products.filter(active=active)
    if merchant_reference is not None:
        products = products.filter(merchant_reference=merchant_reference.replace("\x00", ""))
    if starting_after is not None:
        pk = common.parse_uuid(starting_after)
        anchor = Product.objects.filter(pk=pk, merchant=merchant).values("created_at", "pk").first() if pk else None
        if anchor is None:
            raise invalid("starting_after", "is not one of your products", code="resource_missing")
        products = products.filter(
            Q(created_at__lt=anchor["created_at"]) | Q(created_at=anchor["created_at"], pk__lt=anchor["pk"])
        )
    page = list(products.order_by("-created_at", "-pk")[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    return {
        "object": "list",
        "data": [product_data(product) for product in page],
        "has_more": has_more,
        "next_starting_after": str(page[-1].pk) if has_more else None,
    }
