"""Writes for the marketplace. Other apps change marketplace data only through here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.text import slugify

from accounts.models import User
from accounts.services import audit_record

from .models import SEARCH_CONFIG, Cart, CartItem, Category, Eligibility, Merchant, MerchantStatus, Product

# Raised by the merchant services below; it is the Merchant state machine's error, so it lives with the model.
from .models import MerchantStatusError as MerchantStatusError

MAX_QUANTITY = 99
# The anonymous cart's id lives in the session data, which survives the
# session-key rotation that login() does (the session key itself does not).
SESSION_CART_ID = "cart_id"


class CartError(Exception):
    """A cart change that cannot be made; the message is shown to the shopper."""


# ---------------------------------------------------------------------------
# Cart
# ---------------------------------------------------------------------------


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return str(request.session.session_key)


def _session_cart_id(request: HttpRequest) -> uuid.UUID | None:
    raw = request.session.get(SESSION_CART_ID)
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def cart_for_request(request: HttpRequest, *, create: bool = False) -> Cart | None:
    """The visitor's cart: the user's when signed in, else the session's."""
    user = request.user
    if user.is_authenticated:
        cart = Cart.objects.filter(user=user).first()
        if cart is None and create:
            cart, _ = Cart.objects.get_or_create(user=user)
        return cart
    cart = None
    cart_id = _session_cart_id(request)
    if cart_id is not None:
        cart = Cart.objects.filter(user=None, pk=cart_id).first()
    elif request.session.session_key:
        cart = Cart.objects.filter(user=None, session_key=request.session.session_key).first()
    if cart is None and create:
        cart = Cart.objects.create(session_key=_session_key(request))
    if cart is not None and request.session.get(SESSION_CART_ID) != str(cart.pk):
        request.session[SESSION_CART_ID] = str(cart.pk)
    return cart


@transaction.atomic
def cart_add(*, cart: Cart, product: Product, quantity: int = 1) -> CartItem:
    # Re-read the product's status: the instance may predate a suspension.
    if not product.is_sellable or not Product.objects.sellable().filter(pk=product.pk).exists():
        raise CartError("This product is not available right now.")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"Choose a quantity from 1 to {MAX_QUANTITY}.")
    # get_or_create, not a locked read then create: a double-clicked "Add to cart" runs twice at once, and the
    # second insert would break the one-line-per-product constraint. It finds the first one's line instead.
    item, created = CartItem.objects.get_or_create(cart=cart, product=product, defaults={"quantity": quantity})
    if created:
        return item
    item = CartItem.objects.select_for_update().get(pk=item.pk)
    item.quantity = min(MAX_QUANTITY, item.quantity + quantity)
    item.save(update_fields=["quantity"])
    return item


@transaction.atomic
def cart_set_quantity(*, cart: Cart, product_id: object, quantity: int) -> CartItem | None:
    """Set a line's quantity (1–99); 0 removes the line."""
    if quantity == 0:
        cart_remove(cart=cart, product_id=product_id)
        return None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"Choose a quantity from 1 to {MAX_QUANTITY}.")
    item = CartItem.objects.select_for_update().filter(cart=cart, product_id=str(product_id)).first()
    if item is None:
        raise CartError("That item is no longer in your cart.")
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return item


def cart_remove(*, cart: Cart, product_id: object) -> None:
    CartItem.objects.filter(cart=cart, product_id=str(product_id)).delete()


def cart_remove_products(*, cart: Cart, product_ids: list[object]) -> int:
    deleted, _ = CartItem.objects.filter(cart=cart, product_id__in=product_ids).delete()
    return deleted


def cart_clear(*, cart: Cart) -> None:
    CartItem.objects.filter(cart=cart).delete()


@transaction.atomic
def cart_merge_into_user(*, session_key: str | None, user: User, cart_id: object | None = None) -> Cart | None:
    """At login, move the anonymous cart's lines into the user's cart.

    The anonymous cart is found by ``cart_id`` (kept in the session data,
    which survives login's session-key rotation) or else by ``session_key``.
    Quantities of a product in both carts are added (capped at 99).
    """
    anonymous_carts = Cart.objects.select_for_update().filter(user=None)
    if cart_id:
        try:
            anonymous = anonymous_carts.filter(pk=uuid.UUID(str(cart_id))).first()
        except ValueError:
            anonymous = None
    elif session_key:
        anonymous = anonymous_carts.filter(session_key=session_key).first()
    else:
        anonymous = None
    if anonymous is None:
        return Cart.objects.filter(user=user).first()
    cart, _ = Cart.objects.get_or_create(user=user)
    existing = {item.product_id: item for item in CartItem.objects.select_for_update().filter(cart=cart)}
    for item in anonymous.items.all():
        mine = existing.get(item.product_id)
        if mine is None:
            CartItem.objects.create(cart=cart, product_id=item.product_id, quantity=item.quantity)
        else:
            mine.quantity = min(MAX_QUANTITY, mine.quantity + item.quantity)
            mine.save(update_fields=["quantity"])
    anonymous.delete()
    return cart


# ---------------------------------------------------------------------------
# Search vectors
# ---------------------------------------------------------------------------


def product_search_vector() -> Any:
    """Name weighs most (A), then merchant and category (B), then description (C)."""
    return (
        SearchVector("name", weight="A", config=SEARCH_CONFIG)
        + SearchVector("merchant__name", "category__name", weight="B", config=SEARCH_CONFIG)
        + SearchVector("description", weight="C", config=SEARCH_CONFIG)
    )


def product_search_refresh(
    *,
    product_ids: Iterable[object] | None = None,
    merchant: Merchant | None = None,
    category: Category | None = None,
) -> int:
    """Recompute ``Product.search_vector`` for the given products (all when no filter).

    A no-op on SQLite, whose catalog search is a plain ``icontains``.
    """
    if connection.vendor != "postgresql":
        return 0
    products: QuerySet[Product] = Product.objects.all()
    if product_ids is not None:
        products = products.filter(pk__in=list(product_ids))
    if merchant is not None:
        products = products.filter(merchant=merchant)
    if category is not None:
        products = products.filter(category=category)
    vector = Product.objects.filter(pk=OuterRef("pk")).annotate(vector=product_search_vector()).values("vector")[:1]
    return products.update(search_vector=Subquery(vector))


# ---------------------------------------------------------------------------
# Merchants
# ---------------------------------------------------------------------------


def _unique_slug(
    model: type[Merchant] | type[Product], base: str, *, max_length: int, exclude_pk: uuid.UUID | None = None
) -> str:
    base = (slugify(base) or "item")[: max_length - 6].strip("-") or "item"
    candidates = model.objects.filter(Q(slug=base) | Q(slug__startswith=f"{base}-"))
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    taken = set(candidates.values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@transaction.atomic
def merchant_apply(
    *,
    name: str,
    contact_email: str,
    website: str = "",
    contact_name: str = "",
    application_note: str = "",
    request: HttpRequest | None = None,
) -> Merchant:
    """A merchant asks to sell on Flex Shop: an ``applied`` merchant, and ops are emailed."""
    merchant = Merchant.objects.create(
        name=name.strip(),
        slug=_unique_slug(Merchant, name, max_length=140),
        website=website,
        contact_email=contact_email,
        contact_name=contact_name.strip(),
        application_note=application_note.strip(),
        status=MerchantStatus.APPLIED,
    )
    audit_record(
        action="merchant.applied", actor=None, request=request, obj=merchant, extra={"status": merchant.status}
    )
    merchant_id = str(merchant.pk)
    transaction.on_commit(lambda: _enqueue_application_notice(merchant_id))
    return merchant


def _enqueue_application_notice(merchant_id: str) -> None:
    from django_q.tasks import async_task

    async_task("marketplace.tasks.merchant_application_notify", merchant_id, task_name=f"merchant-apply-{merchant_id}")


def _merchant_transition(
    *, merchant: Merchant, to: MerchantStatus, action: str, actor: User | None, request: HttpRequest | None
) -> Merchant:
    locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if not locked.can_transition_to(to):
        raise MerchantStatusError(
            f"{locked.name} is {locked.get_status_display().lower()} and cannot become {to.label.lower()}."
        )
    previous = locked.status
    locked.status = to
    locked.save(update_fields=["status", "updated_at"])
    audit_record(action=action, actor=actor, request=request, obj=locked, extra={"from": previous, "to": str(to)})
    merchant.status = locked.status
    merchant.updated_at = locked.updated_at
    return locked


@transaction.atomic
def merchant_activate(*, merchant: Merchant, actor: User | None = None, request: HttpRequest | None = None) -> Merchant:
    """``applied → active`` or ``suspended → active``: the merchant's active products are sold."""
    return _merchant_transition(
        merchant=merchant, to=MerchantStatus.ACTIVE, action="merchant.activated", actor=actor, request=request
    )


@transaction.atomic
def merchant_suspend(*, merchant: Merchant, actor: User | None = None, request: HttpRequest | None = None) -> Merchant:
    """``active → suspended``: the merchant's products disappear from the shop at once."""
    return _merchant_transition(
        merchant=merchant, to=MerchantStatus.SUSPENDED, action="merchant.suspended", actor=actor, request=request
    )


@transaction.atomic
def merchant_save(*, merchant: Merchant, actor: User | None = None, request: HttpRequest | None = None) -> Merchant:
    """Create or edit a merchant's details (not its status: see merchant_activate/suspend)."""
    adding = merchant._state.adding
    previous = None if adding else Merchant.objects.select_for_update().filter(pk=merchant.pk).first()
    if previous is not None and previous.status != merchant.status:
        raise MerchantStatusError("A merchant's status changes only through activate or suspend.")
    if adding and merchant.status != MerchantStatus.APPLIED:
        raise MerchantStatusError("A new merchant starts as applied; activate it afterwards.")
    if not merchant.slug:
        merchant.slug = _unique_slug(Merchant, merchant.name, max_length=140, exclude_pk=merchant.pk)
    merchant.full_clean()
    merchant.save()
    if previous is not None and previous.name != merchant.name:
        product_search_refresh(merchant=merchant)
    audit_record(
        action="merchant.created" if adding else "merchant.updated", actor=actor, request=request, obj=merchant
    )
    return merchant


# ---------------------------------------------------------------------------
# Categories and products
# ---------------------------------------------------------------------------


@transaction.atomic
def category_save(*, category: Category, actor: User | None = None, request: HttpRequest | None = None) -> Category:
    adding = category._state.adding
    previous_name = None if adding else Category.objects.filter(pk=category.pk).values_list("name", flat=True).first()
    category.full_clean()
    category.save()
    if previous_name is not None and previous_name != category.name:
        product_search_refresh(category=category)
    audit_record(
        action="category.created" if adding else "category.updated", actor=actor, request=request, obj=category
    )
    return category


def product_unique_slug(*, merchant: Merchant, name: str, exclude_pk: uuid.UUID | None = None) -> str:
    """A slug for the product's URL: the name, or merchant + name when the name is taken."""
    base = slugify(name)[:200] or "product"
    clashes = Product.objects.filter(slug=base)
    if exclude_pk is not None:
        clashes = clashes.exclude(pk=exclude_pk)
    if not clashes.exists():
        return base
    return _unique_slug(Product, f"{merchant.slug}-{name}", max_length=220, exclude_pk=exclude_pk)


@transaction.atomic
def product_save(*, product: Product, actor: User | None = None, request: HttpRequest | None = None) -> Product:
    """Validate and save a new or edited product, then refresh its search vector."""
    adding = product._state.adding
    previous_eligibility = (
        None if adding else Product.objects.filter(pk=product.pk).values_list("eligibility", flat=True).first()
    )
    if not product.slug:
        product.slug = product_unique_slug(merchant=product.merchant, name=product.name, exclude_pk=product.pk)
    product.full_clean()
    product.save()
    product_search_refresh(product_ids=[product.pk])
    extra: dict[str, Any] = {"eligibility": product.eligibility, "active": product.active}
    if previous_eligibility is not None and previous_eligibility != product.eligibility:
        extra["previous_eligibility"] = previous_eligibility
    audit_record(
        action="product.created" if adding else "product.updated",
        actor=actor,
        request=request,
        obj=product,
        extra=extra,
    )
    return product


def product_create(
    *,
    merchant: Merchant,
    category: Category,
    name: str,
    price_cents: int,
    eligibility: str = Eligibility.LMN_REQUIRED,
    description: str = "",
    gtin: str = "",
    merchant_url: str = "",
    merchant_reference: str = "",
    slug: str = "",
    active: bool = True,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> Product:
    product = Product(
        merchant=merchant,
        category=category,
        name=name,
        slug=slug,
        price_cents=price_cents,
        eligibility=eligibility,
        description=description,
        gtin=gtin,
        merchant_url=merchant_url,
        merchant_reference=merchant_reference,
        active=active,
    )
    return product_save(product=product, actor=actor, request=request)


_PRODUCT_EDITABLE = frozenset(
    {
        "category",
        "name",
        "slug",
        "description",
        "price_cents",
        "eligibility",
        "gtin",
        "merchant_url",
        "merchant_reference",
        "active",
    }
)


def product_update(
    *, product: Product, changes: dict[str, Any], actor: User | None = None, request: HttpRequest | None = None
) -> Product:
    unknown = set(changes) - _PRODUCT_EDITABLE
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))} with product_update.")
    for field_name, value in changes.items():
        setattr(product, field_name, value)
    return product_save(product=product, actor=actor, request=request)


@dataclass(frozen=True)
class EligibilityChange:
    changed: int
    skipped_without_gtin: list[str]


@transaction.atomic
def products_set_eligibility(
    *,
    products: QuerySet[Product],
    eligibility: str,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> EligibilityChange:
    """Bulk-set eligibility; an auto-substantiated product needs a GTIN, so those without one are skipped."""
    if eligibility not in Eligibility.values:
        raise ValueError(f"Unknown eligibility {eligibility!r}")
    changed = 0
    skipped: list[str] = []
    for product in products.select_for_update().order_by("pk"):
        if product.eligibility == eligibility:
            continue
        if eligibility == Eligibility.AUTO_SUBSTANTIATION and not product.gtin:
            skipped.append(product.name)
            continue
        previous = product.eligibility
        product.eligibility = eligibility
        product.save(update_fields=["eligibility", "updated_at"])
        audit_record(
            action="product.eligibility_changed",
            actor=actor,
            request=request,
            obj=product,
            extra={"from": previous, "to": eligibility},
        )
        changed += 1
    return EligibilityChange(changed=changed, skipped_without_gtin=skipped)


@transaction.atomic
def products_set_active(
    *, products: QuerySet[Product], active: bool, actor: User | None = None, request: HttpRequest | None = None
) -> int:
    changed = 0
    for product in products.select_for_update().order_by("pk"):
        if product.active == active:
            continue
        product.active = active
        product.save(update_fields=["active", "updated_at"])
        audit_record(
            action="product.activated" if active else "product.deactivated", actor=actor, request=request, obj=product
        )
        changed += 1
    return changed


# ---------------------------------------------------------------------------
# CSV import
# ---------------------------------------------------------------------------


class CsvImportError(Exception):
    """The file has errors; nothing was imported. ``preview`` lists them by line."""

    def __init__(self, preview: Any) -> None:
        super().__init__(f"{preview.error_count} error(s) in the file; nothing was imported.")
        self.preview = preview


@dataclass(frozen=True)
class CsvImportResult:
    created: int
    updated: int


@transaction.atomic
def products_import_csv(
    *, merchant: Merchant, text: str, actor: User | None = None, request: HttpRequest | None = None
) -> CsvImportResult:
    """Import a merchant's products from CSV text: every row or none.

    The file is validated again here (the preview may be stale); a single
    invalid row raises :class:`CsvImportError` and nothing is saved. Rows whose
    name matches one of the merchant's products update it; the others are new.
    """
    from .csv_io import parse_product_csv

    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    preview = parse_product_csv(text=text, merchant=merchant)
    if not preview.is_valid:
        raise CsvImportError(preview)
    created = updated = 0
    touched: list[object] = []
    taken_slugs: set[str] = set()
    for row in preview.rows:
        product = row.existing or Product(merchant=merchant)
        product.name = row.name
        product.description = row.description
        product.price_cents = row.price_cents or 0
        product.category = row.category  # type: ignore[assignment]
        product.eligibility = row.eligibility
        product.gtin = row.gtin
        product.merchant_url = row.url
        if product._state.adding:
            slug = product_unique_slug(merchant=merchant, name=row.name)
            n = 2
            while slug in taken_slugs:
                slug = product_unique_slug(merchant=merchant, name=f"{row.name} {n}")
                n += 1
            product.slug = slug
            taken_slugs.add(slug)
            created += 1
        else:
            updated += 1
        product.full_clean()
        product.save()
        touched.append(product.pk)
    product_search_refresh(product_ids=touched)
    audit_record(
        action="product.csv_imported",
        actor=actor,
        request=request,
        obj=merchant,
        extra={"created": created, "updated": updated},
    )
    return CsvImportResult(created=created, updated=updated)
