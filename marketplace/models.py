from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from flexlmn.state_machine import IllegalTransition, StatusTransitions

from .validators import validate_gtin


class MerchantStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


# The only legal merchant transitions: applied → active ⇄ suspended.
MERCHANT_TRANSITIONS: dict[str, set[str]] = {
    MerchantStatus.APPLIED: {MerchantStatus.ACTIVE},
    MerchantStatus.ACTIVE: {MerchantStatus.SUSPENDED},
    MerchantStatus.SUSPENDED: {MerchantStatus.ACTIVE},
}


class MerchantStatusError(IllegalTransition):
    """An illegal merchant status transition (see MERCHANT_TRANSITIONS)."""


# The highest price a product may have ($100,000), in cents: the model, the CSV import and the shop's price filter agree.
MAX_PRICE_CENTS = 10_000_000
# The text-search configuration of Product.search_vector; a query must use the same one to match it.
SEARCH_CONFIG = "english"


class Eligibility(models.TextChoices):
    AUTO_SUBSTANTIATION = "auto_substantiation", "HSA/FSA eligible (auto-substantiated)"
    # Never "is eligible": a clinician decides whether a letter is appropriate.
    LMN_REQUIRED = "lmn_required", "May be eligible with a Letter of Medical Necessity"
    NOT_ELIGIBLE = "not_eligible", "Not HSA/FSA eligible"


class MerchantQuerySet(models.QuerySet["Merchant"]):
    def active(self) -> MerchantQuerySet:
        return self.filter(status=MerchantStatus.ACTIVE)


class Merchant(StatusTransitions, models.Model):
    TRANSITIONS = MERCHANT_TRANSITIONS
    TRANSITION_ERROR = MerchantStatusError
    TRANSITION_SUBJECT = "A merchant"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=140, unique=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    logo = models.ImageField(upload_to="merchant-logos/", blank=True)
    contact_email = models.EmailField()
    contact_name = models.CharField(max_length=120, blank=True)
    application_note = models.TextField(
        blank=True, help_text="What the merchant told us when applying (not shown to shoppers)."
    )
    # Set once ops have been emailed about the application (the task is idempotent).
    ops_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=16, choices=MerchantStatus.choices, default=MerchantStatus.APPLIED)
    stripe_account_id = models.CharField("Stripe Connect account id", max_length=64, blank=True)
    commission_bps = models.PositiveIntegerField(
        "commission (basis points)", default=500, validators=[MaxValueValidator(10_000)]
    )
    featured = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MerchantQuerySet.as_manager()

    class Meta:
        ordering = ("name",)
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["status", "name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("marketplace:merchant", args=[self.slug])

    @property
    def is_active(self) -> bool:
        return self.status == MerchantStatus.ACTIVE


class Category(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    ordering = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("ordering", "name")
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("marketplace:category", args=[self.slug])


class ProductQuerySet(models.QuerySet["Product"]):
    def sellable(self) -> ProductQuerySet:
        """Active products of active merchants: the only ones shown or sold."""
        return self.filter(active=True, merchant__status=MerchantStatus.ACTIVE)


class Product(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    # Integer cents, USD: no floating point anywhere near money.
    price_cents = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_PRICE_CENTS)])
    eligibility = models.CharField(max_length=24, choices=Eligibility.choices, default=Eligibility.LMN_REQUIRED)
    gtin = models.CharField("GTIN", max_length=14, blank=True, validators=[validate_gtin])
    merchant_url = models.URLField("merchant's product URL", blank=True)
    merchant_reference = models.CharField(
        "merchant's product reference", max_length=100, blank=True, help_text="The merchant's own SKU or id."
    )
    image = models.ImageField(upload_to="product-images/", blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept up to date by marketplace.services (PostgreSQL full-text search).
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ("name",)
        indexes: ClassVar[list[models.Index]] = [
            GinIndex(fields=["search_vector"], name="product_search_gin"),
            models.Index(fields=["category", "active"]),
            models.Index(fields=["merchant", "active"]),
            models.Index(fields=["eligibility"]),
            models.Index(fields=["price_cents"]),
            models.Index(fields=["-created_at"]),
            # The catalog's default order (name, then id): the first page reads 24 index entries, not a sort.
            models.Index(fields=["name", "id"], name="product_name_id"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=~Q(eligibility=Eligibility.AUTO_SUBSTANTIATION) | ~Q(gtin=""),
                name="product_auto_substantiation_has_gtin",
                violation_error_message="An auto-substantiated product needs its GTIN (from the IIAS list).",
            ),
            models.UniqueConstraint(
                fields=["merchant", "merchant_reference"],
                condition=~Q(merchant_reference=""),
                name="product_unique_merchant_reference",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("marketplace:product", args=[self.slug])

    def clean(self) -> None:
        super().clean()
        if self.eligibility == Eligibility.AUTO_SUBSTANTIATION and not self.gtin:
            raise ValidationError({"gtin": "An auto-substantiated product needs its GTIN (from the IIAS list)."})

    @property
    def is_sellable(self) -> bool:
        return self.active and self.merchant.status == MerchantStatus.ACTIVE

    @property
    def needs_letter(self) -> bool:
        return self.eligibility == Eligibility.LMN_REQUIRED


class Cart(models.Model):
    """A shopper's cart: by session for anonymous visitors, by user once signed in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cart"
    )
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart {self.pk}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1), MaxValueValidator(99)])
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("added_at", "id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["cart", "product"], name="cartitem_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1, quantity__lte=99), name="cartitem_quantity_1_99"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"

    @property
    def line_total_cents(self) -> int:
        return int(self.quantity) * int(self.product.price_cents)
