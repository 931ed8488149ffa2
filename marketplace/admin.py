"""Ops run merchants, categories and products here. Every write goes through marketplace.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.forms import BaseInlineFormSet, ModelChoiceField
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record

from .csv_io import CSV_COLUMNS, CsvFileError, CsvPreview, decode_csv_upload, parse_product_csv, products_to_csv
from .forms import CsvConfirmForm, CsvUploadForm, ProductAdminForm
from .models import Category, Eligibility, Merchant, MerchantStatus, Product
from .services import (
    CsvImportError,
    MerchantStatusError,
    category_save,
    merchant_activate,
    merchant_save,
    merchant_suspend,
    product_save,
    products_import_csv,
    products_set_active,
    products_set_eligibility,
)
from .templatetags.marketplace_tags import usd

CSV_IMPORT_SALT = "marketplace.csv-import"
# Merchants type their own web addresses; assume https when they leave the scheme out.
URL_FIELDS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}
CSV_IMPORT_MAX_AGE = 60 * 60


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


class ProductInline(admin.TabularInline[Product, Merchant]):
    model = Product
    formfield_overrides = URL_FIELDS
    form = ProductAdminForm
    fields = ("name", "category", "price", "eligibility", "gtin", "active")
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("name",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).select_related("category")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "category" and isinstance(field, ModelChoiceField):
            # Every row offers the same categories: read them once here, not once per row as the field would.
            field.choices = [(getattr(value, "value", value), label) for value, label in field.iterator(field)]
        return field


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin[Merchant]):
    formfield_overrides = URL_FIELDS
    change_form_template = "marketplace/admin/merchant_change_form.html"
    list_display = ("name", "status_badge", "featured", "product_count", "active_product_count", "created_at")
    list_filter = ("status", "featured", "created_at")
    search_fields = ("name", "slug", "contact_email", "contact_name", "website")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("status", "ops_notified_at", "created_at", "updated_at")
    actions = ("activate_merchants", "suspend_merchants")
    inlines = (ProductInline,)
    fieldsets = (
        (None, {"fields": ("name", "slug", "status", "featured", "website", "description", "logo")}),
        ("Contact", {"fields": ("contact_name", "contact_email", "application_note", "ops_notified_at")}),
        ("Payouts", {"fields": ("stripe_account_id", "commission_bps")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Merchant]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                _product_count=Count("products", distinct=True),
                _active_product_count=Count("products", filter=Q(products__active=True), distinct=True),
            )
        )

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Merchant) -> str:
        # No inline styles (the Content-Security-Policy forbids them): words say it.
        marks: dict[str, str] = {MerchantStatus.ACTIVE: "●", MerchantStatus.APPLIED: "◌", MerchantStatus.SUSPENDED: "■"}
        return f"{marks.get(obj.status, '')} {obj.get_status_display()}".strip()

    @admin.display(description="products", ordering="_product_count")
    def product_count(self, obj: Merchant) -> int:
        return int(getattr(obj, "_product_count", 0))

    @admin.display(description="active products", ordering="_active_product_count")
    def active_product_count(self, obj: Merchant) -> int:
        return int(getattr(obj, "_active_product_count", 0))

    def _transition(self, request: HttpRequest, queryset: QuerySet[Merchant], *, activate: bool) -> None:
        done: list[str] = []
        refused: list[str] = []
        for merchant in queryset.order_by("name"):
            try:
                if activate:
                    merchant_activate(merchant=merchant, actor=_actor(request), request=request)
                else:
                    merchant_suspend(merchant=merchant, actor=_actor(request), request=request)
            except MerchantStatusError as exc:
                refused.append(str(exc))
            else:
                done.append(merchant.name)
        if done:
            verb = "Activated" if activate else "Suspended (products hidden from the shop)"
            self.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description="Activate selected merchants (their active products go on sale)")
    def activate_merchants(self, request: HttpRequest, queryset: QuerySet[Merchant]) -> None:
        self._transition(request, queryset, activate=True)

    @admin.action(description="Suspend selected merchants (hide their products at once)")
    def suspend_merchants(self, request: HttpRequest, queryset: QuerySet[Merchant]) -> None:
        self._transition(request, queryset, activate=False)

    def save_model(self, request: HttpRequest, obj: Merchant, form: Any, change: bool) -> None:
        merchant_save(merchant=obj, actor=_actor(request), request=request)

    def save_formset(
        self, request: HttpRequest, form: Any, formset: BaseInlineFormSet[Any, Any, Any], change: bool
    ) -> None:
        for product in formset.save(commit=False):
            product_save(product=product, actor=_actor(request), request=request)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "import_url": reverse("admin:marketplace_product_import_csv") + f"?merchant={object_id}",
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ("name", "slug", "ordering", "product_count")
    list_editable = ("ordering",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(_product_count=Count("products"))

    @admin.display(description="products", ordering="_product_count")
    def product_count(self, obj: Category) -> int:
        return int(getattr(obj, "_product_count", 0))

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        category_save(category=obj, actor=_actor(request), request=request)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    form = ProductAdminForm
    formfield_overrides = URL_FIELDS
    change_list_template = "marketplace/admin/product_change_list.html"
    list_display = ("name", "merchant", "category", "price_display", "eligibility", "gtin", "active", "on_sale")
    list_filter = ("eligibility", "active", "category", "merchant__status", "merchant")
    list_select_related = ("merchant", "category")
    search_fields = ("name", "gtin", "merchant__name", "merchant_reference")
    autocomplete_fields = ("merchant", "category")
    readonly_fields = ("created_at", "updated_at")
    actions = (
        "set_auto_substantiation",
        "set_lmn_required",
        "set_not_eligible",
        "activate_products",
        "deactivate_products",
        "export_selected_csv",
    )
    fieldsets = (
        (None, {"fields": ("merchant", "category", "name", "slug", "description", "price", "active")}),
        ("HSA/FSA eligibility", {"fields": ("eligibility", "gtin")}),
        ("At the merchant", {"fields": ("merchant_url", "merchant_reference", "image")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description="price", ordering="price_cents")
    def price_display(self, obj: Product) -> str:
        return usd(obj.price_cents)

    @admin.display(description="on sale", boolean=True)
    def on_sale(self, obj: Product) -> bool:
        return obj.is_sellable

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        product_save(product=obj, actor=_actor(request), request=request)

    def _set_eligibility(self, request: HttpRequest, queryset: QuerySet[Product], eligibility: str) -> None:
        result = products_set_eligibility(
            products=queryset, eligibility=eligibility, actor=_actor(request), request=request
        )
        label = Eligibility(eligibility).label
        self.message_user(request, f"{result.changed} product(s) set to “{label}”.", messages.SUCCESS)
        if result.skipped_without_gtin:
            self.message_user(
                request,
                "Skipped (an auto-substantiated product needs a GTIN): " + ", ".join(result.skipped_without_gtin),
                messages.WARNING,
            )

    @admin.action(description="Set eligibility: HSA/FSA eligible (auto-substantiated, needs GTIN)")
    def set_auto_substantiation(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_eligibility(request, queryset, Eligibility.AUTO_SUBSTANTIATION)

    @admin.action(description="Set eligibility: needs a Letter of Medical Necessity")
    def set_lmn_required(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_eligibility(request, queryset, Eligibility.LMN_REQUIRED)

    @admin.action(description="Set eligibility: not HSA/FSA eligible")
    def set_not_eligible(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_eligibility(request, queryset, Eligibility.NOT_ELIGIBLE)

    @admin.action(description="Activate selected products")
    def activate_products(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        changed = products_set_active(products=queryset, active=True, actor=_actor(request), request=request)
        self.message_user(request, f"{changed} product(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected products (hide from the shop)")
    def deactivate_products(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        changed = products_set_active(products=queryset, active=False, actor=_actor(request), request=request)
        self.message_user(request, f"{changed} product(s) deactivated.", messages.SUCCESS)

    @admin.action(description="Export selected products as CSV")
    def export_selected_csv(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse:
        return self._csv_response(request, queryset)

    # --- CSV import and export -------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import-csv/", self.admin_site.admin_view(self.import_csv_view), name="marketplace_product_import_csv"
            ),
            path(
                "export-csv/", self.admin_site.admin_view(self.export_csv_view), name="marketplace_product_export_csv"
            ),
            *super().get_urls(),
        ]

    def _csv_response(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse:
        products = list(queryset.select_related("merchant", "category").order_by("merchant__name", "name"))
        response = HttpResponse(products_to_csv(products), content_type="text/csv; charset=utf-8")
        filename = f"flex-shop-products-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        audit_record(action="product.csv_exported", request=request, extra={"count": len(products)})
        return response

    def export_csv_view(self, request: HttpRequest) -> HttpResponse:
        """Every product the change list shows with the current filters and search."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self._csv_response(request, changelist.get_queryset(request))

    def import_csv_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import products from CSV",
            "columns": CSV_COLUMNS,
            "eligibility_values": Eligibility.values,
            "categories": Category.objects.order_by("ordering", "name"),
        }
        if request.method == "POST" and "payload" in request.POST:
            return self._import_confirm(request, context)
        if request.method == "POST":
            form = CsvUploadForm(request.POST, request.FILES)
            if form.is_valid():
                merchant: Merchant = form.cleaned_data["merchant"]
                try:
                    text = decode_csv_upload(form.cleaned_data["file"].read())
                except CsvFileError as exc:
                    form.add_error("file", str(exc))
                else:
                    preview = parse_product_csv(text=text, merchant=merchant)
                    return self._render_preview(request, context, preview, text)
        else:
            form = CsvUploadForm(initial={"merchant": request.GET.get("merchant") or None})
        return TemplateResponse(request, "marketplace/admin/product_import.html", {**context, "form": form})

    def _render_preview(
        self, request: HttpRequest, context: dict[str, Any], preview: CsvPreview, text: str
    ) -> HttpResponse:
        confirm = None
        if preview.is_valid:
            payload = signing.dumps(
                {"merchant": str(preview.merchant.pk), "csv": text}, salt=CSV_IMPORT_SALT, compress=True
            )
            confirm = CsvConfirmForm(initial={"payload": payload})
        return TemplateResponse(
            request,
            "marketplace/admin/product_import_preview.html",
            {
                **context,
                "title": f"Check the import for {preview.merchant.name}",
                "preview": preview,
                "confirm": confirm,
            },
        )

    def _import_confirm(self, request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
        form = CsvConfirmForm(request.POST)
        try:
            if not form.is_valid():
                raise signing.BadSignature("missing payload")
            data = signing.loads(form.cleaned_data["payload"], salt=CSV_IMPORT_SALT, max_age=CSV_IMPORT_MAX_AGE)
            merchant = Merchant.objects.get(pk=data["merchant"])
        except (signing.BadSignature, Merchant.DoesNotExist, KeyError, TypeError):
            self.message_user(request, "That preview has expired; upload the file again.", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:marketplace_product_import_csv"))
        try:
            result = products_import_csv(merchant=merchant, text=data["csv"], actor=_actor(request), request=request)
        except CsvImportError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return self._render_preview(request, context, exc.preview, data["csv"])
        self.message_user(
            request,
            f"Imported {result.created + result.updated} products for {merchant.name}: "
            f"{result.created} new, {result.updated} updated.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse("admin:marketplace_product_changelist") + f"?merchant__id__exact={merchant.pk}"
        )
