"""Ops in admin: orders with status filters, refunds through the provider, fulfilment; payments read-only."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from accounts.models import User
from marketplace.admin import URL_FIELDS
from marketplace.templatetags.marketplace_tags import usd

from . import merchant_webhooks, services
from .api import keys as api_keys
from .forms import RefundForm
from .models import (
    CheckoutLineItem,
    CheckoutSession,
    MerchantAPIKey,
    MerchantEvent,
    MerchantEventType,
    MerchantWebhookAttempt,
    MerchantWebhookDelivery,
    MerchantWebhookEndpoint,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentEmail,
    ProviderEvent,
    Refund,
    RefundItem,
)


class ReadOnlyInline(admin.TabularInline[Any, Any]):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = (
        "name",
        "kind",
        "merchant_name",
        "category_name",
        "eligibility",
        "gtin",
        "quantity",
        "unit_price_cents",
        "refunded_quantity",
        "fulfilled_at",
    )
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = (
        "status",
        "provider",
        "provider_reference",
        "amount_cents",
        "amount_captured_cents",
        "amount_refunded_cents",
        "card_brand",
        "card_last4",
        "capture_before",
        "failure_code",
        "attempt_started_at",
        "created_at",
    )
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ("amount_cents", "reason", "status", "provider_reference", "created_by", "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        # Each row shows who refunded: read with the refunds, not one query per row.
        return super().get_queryset(request).select_related("created_by")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    list_display = ("reference", "shopper", "status", "total", "refunded", "requires_letter", "hold_flag", "created_at")
    list_filter = ("status", "requires_letter", ("hold_expiring_flagged_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("id", "shopper__email", "buyer_name", "buyer_email", "items__name", "items__merchant_name")
    date_hierarchy = "created_at"
    list_select_related = ("shopper",)
    inlines = (OrderItemInline, PaymentInline, RefundInline)
    actions = ("refund_action", "mark_fulfilled_action")
    readonly_fields = (
        "id", "shopper", "checkout_session", "status", "currency", "total_cents", "refunded_cents", "requires_letter",
        "buyer_name", "buyer_email", "buyer_phone", "shipping_line1", "shipping_line2", "shipping_city",
        "shipping_state", "shipping_postal_code", "shipping_country", "created_at", "placed_at", "confirmed_at",
        "fulfilled_at", "cancelled_at", "refunded_at", "cancel_reason", "hold_expiring_flagged_at", "refund_link",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("id", "shopper", "status", "refund_link", "checkout_session", "requires_letter", "cancel_reason")}),
        ("Money", {"fields": ("currency", "total_cents", "refunded_cents")}),
        ("Buyer", {"fields": ("buyer_name", "buyer_email", "buyer_phone", "shipping_line1", "shipping_line2", "shipping_city", "shipping_state", "shipping_postal_code", "shipping_country")}),
        ("Timeline", {"fields": ("created_at", "placed_at", "confirmed_at", "fulfilled_at", "cancelled_at", "refunded_at", "hold_expiring_flagged_at")}),
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Total", ordering="total_cents")
    def total(self, obj: Order) -> str:
        return usd(obj.total_cents)

    @admin.display(description="Refunded", ordering="refunded_cents")
    def refunded(self, obj: Order) -> str:
        return usd(obj.refunded_cents) if obj.refunded_cents else "—"

    @admin.display(description="Hold < 24 h", boolean=True)
    def hold_flag(self, obj: Order) -> bool:
        return obj.hold_expiring_flagged_at is not None and obj.status == OrderStatus.AWAITING_REVIEW

    @admin.display(description="Refund")
    def refund_link(self, obj: Order) -> str:
        if obj.status not in (OrderStatus.CONFIRMED, OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED):
            return "—"
        return format_html(
            '<a class="button" href="{}">Refund this order…</a>', reverse("admin:payments_order_refund", args=[obj.pk])
        )

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path("<uuid:order_id>/refund/", self.admin_site.admin_view(self.refund_view), name="payments_order_refund"),
        ]
        return custom + super().get_urls()

    @admin.action(description="Refund the selected order (whole or chosen items)…")
    def refund_action(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one order to refund.", messages.WARNING)
            return None
        order = queryset.get()
        return HttpResponseRedirect(reverse("admin:payments_order_refund", args=[order.pk]))

    def refund_view(self, request: HttpRequest, order_id: Any) -> HttpResponse:
        """The intermediate page: items with quantities, or the whole order, and a reason."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=order_id)
        items = list(order.items.all())
        form = RefundForm(request.POST or None, items=items, refunded_cents=order.refunded_cents)
        if request.method == "POST" and form.is_valid():
            assert isinstance(request.user, User)
            try:
                refund = services.order_refund(
                    order=order,
                    lines=form.lines(),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    request=request,
                    expected_refunded_cents=form.cleaned_data.get("seen_refunded_cents"),
                )
            except services.RefundStale as exc:
                # The same form sent again: the first submit did the refund; show its result.
                self.message_user(request, str(exc), messages.WARNING)
                return HttpResponseRedirect(reverse("admin:payments_order_change", args=[order.pk]))
            except services.RefundError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    f"Refunded {usd(refund.amount_cents)} on order {order.reference}; the shopper is emailed.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:payments_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund order {order.reference}",
            "order": order,
            "items": items,
            "form": form,
            "opts": self.model._meta,
            "total_display": usd(order.total_cents),
            "refundable_display": usd(order.total_cents - order.refunded_cents),
        }
        return render(request, "payments/admin/refund.html", context)

    @admin.action(description="Mark all items of the selected orders fulfilled")
    def mark_fulfilled_action(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        assert isinstance(request.user, User)
        items = list(OrderItem.objects.filter(order__in=queryset))
        changed = services.order_items_mark_fulfilled(items=items, actor=request.user, request=request)
        self.message_user(request, f"{changed} item(s) marked fulfilled.", messages.SUCCESS)


@admin.register(OrderItem)
class OrderItemAdmin(admin.ModelAdmin[OrderItem]):
    """Merchants' fulfilment: find a merchant's items to ship and mark them fulfilled."""

    list_display = ("name", "merchant_name", "order_link", "quantity", "eligibility", "order_status", "fulfilled_at")
    list_filter = (("fulfilled_at", admin.EmptyFieldListFilter), "order__status", "merchant", "eligibility")
    search_fields = ("name", "merchant_name", "gtin", "order__id")
    list_select_related = ("order",)
    actions = ("mark_fulfilled_action",)
    readonly_fields = [f.name for f in OrderItem._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Order")
    def order_link(self, obj: OrderItem) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:payments_order_change", args=[obj.order_id]), obj.order.reference
        )

    @admin.display(description="Order status", ordering="order__status")
    def order_status(self, obj: OrderItem) -> str:
        return obj.order.get_status_display()

    @admin.action(description="Mark the selected items fulfilled")
    def mark_fulfilled_action(self, request: HttpRequest, queryset: QuerySet[OrderItem]) -> None:
        assert isinstance(request.user, User)
        changed = services.order_items_mark_fulfilled(items=list(queryset), actor=request.user, request=request)
        skipped = queryset.count() - changed
        message = f"{changed} item(s) marked fulfilled."
        if skipped:
            message += f" {skipped} skipped (already fulfilled, or the order is not confirmed)."
        self.message_user(request, message, messages.SUCCESS if changed else messages.WARNING)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    # Its view-only form still builds URL fields (a session's success and cancel URLs).
    formfield_overrides = URL_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "order",
        "status",
        "provider",
        "amount_cents",
        "card_brand",
        "card_last4",
        "capture_before",
        "created_at",
    )
    list_filter = ("status", "provider")
    search_fields = ("id", "provider_reference", "order__id")


class RefundItemInline(ReadOnlyInline):
    model = RefundItem
    fields = ("order_item", "quantity", "amount_cents")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[RefundItem]:
        # Each row names its order item: read with the refund's items, not one query per row.
        return super().get_queryset(request).select_related("order_item")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "amount_cents", "status", "created_by", "created_at")
    # created_by may be empty, so the admin's own select_related() would leave it out: one query per row.
    list_select_related = ("order", "created_by")
    list_filter = ("status",)
    search_fields = ("id", "order__id", "provider_reference")
    inlines = (RefundItemInline,)


class CheckoutLineItemInline(ReadOnlyInline):
    model = CheckoutLineItem
    fields = ("name", "merchant_name", "category_name", "eligibility", "gtin", "quantity", "unit_price_cents")
    readonly_fields = fields


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ReadOnlyAdmin):
    list_display = ("id", "source", "merchant", "customer", "status", "expires_at", "created_at")
    list_select_related = ("merchant", "customer")
    list_filter = ("status", "source")
    search_fields = ("id", "customer__email", "customer_email")
    inlines = (CheckoutLineItemInline,)


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "provider", "type", "object_reference", "received_at", "processed_at", "outcome")
    list_filter = ("provider", "type")
    search_fields = ("event_id", "object_reference")


@admin.register(PaymentEmail)
class PaymentEmailAdmin(ReadOnlyAdmin):
    list_display = ("kind", "reference", "attempts", "sent_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("reference",)


# --------------------------------------------------------------------------- the merchant API (keys and webhooks)
#
# Secrets are shown once: the page that creates (or rolls) a key or a signing
# secret renders it in its answer, marked no-store, and nothing shows it again.

ROLL_GRACE_CHOICES = [(0, "Stop the old key now"), (1, "Keep the old key for 1 hour"), (24, "Keep it for 24 hours"), (72, "Keep it for 3 days")]  # fmt: skip


def _secret_page(
    admin_view: admin.ModelAdmin[Any], request: HttpRequest, *, title: str, secret: str, obj: Any, note: str
) -> HttpResponse:
    context = {
        **admin_view.admin_site.each_context(request),
        "title": title,
        "opts": admin_view.model._meta,
        "object": obj,
        "secret": secret,
        "note": note,
    }
    response = render(request, "payments/api/admin_secret.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _user_of(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


class MerchantAPIKeyCreateForm(forms.ModelForm[MerchantAPIKey]):
    class Meta:
        model = MerchantAPIKey
        fields = ("merchant", "name", "mode")


@admin.register(MerchantAPIKey)
class MerchantAPIKeyAdmin(admin.ModelAdmin[MerchantAPIKey]):
    """Ops create, roll and revoke a merchant's keys; the secret is shown once and only its hash is kept."""

    list_display = ("name", "merchant", "mode", "masked", "state", "created_at", "last_used_at", "revoked_at")
    list_filter = ("mode", ("revoked_at", admin.EmptyFieldListFilter), "merchant")
    search_fields = ("name", "merchant__name", "last4")
    list_select_related = ("merchant",)
    readonly_fields = ("merchant", "mode", "masked", "state", "created_at", "created_by", "last_used_at", "revoked_at", "replaced_by")  # fmt: skip
    fields = ("name", *readonly_fields)
    actions = ("revoke_action",)
    change_form_template = "payments/api/admin_key_change_form.html"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A key is revoked, never deleted, so the record of who had access stays.
        return False

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = MerchantAPIKeyCreateForm
            kwargs["fields"] = ("merchant", "name", "mode")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj is not None else ("merchant", "name", "mode")

    @admin.display(description="Key")
    def masked(self, obj: MerchantAPIKey) -> str:
        return obj.masked

    @admin.display(description="State")
    def state(self, obj: MerchantAPIKey) -> str:
        if obj.revoked_at is None:
            return "Active"
        return f"Works until {obj.revoked_at:%Y-%m-%d %H:%M}" if obj.is_usable() else "Revoked"

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            if not self.has_add_permission(request):
                raise PermissionDenied
            form = MerchantAPIKeyCreateForm(request.POST)
            if form.is_valid():
                new = api_keys.merchant_api_key_create(
                    merchant=form.cleaned_data["merchant"],
                    name=form.cleaned_data["name"],
                    mode=form.cleaned_data["mode"],
                    actor=_user_of(request),
                    request=request,
                )
                return _secret_page(
                    self,
                    request,
                    title="Copy the new API key now",
                    secret=new.secret,
                    obj=new.key,
                    note="This is the only time the secret key is shown: FlexLMN keeps only its hash. "
                    "Send it to the merchant over a secure channel.",
                )
        return super().add_view(request, form_url, extra_context)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path("<uuid:key_id>/roll/", self.admin_site.admin_view(self.roll_view), name="payments_merchantapikey_roll"),
            path("<uuid:key_id>/revoke/", self.admin_site.admin_view(self.revoke_view), name="payments_merchantapikey_revoke"),
        ]  # fmt: skip
        return custom + super().get_urls()

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {**(extra_context or {}), "roll_grace_choices": ROLL_GRACE_CHOICES}
        return super().change_view(request, object_id, form_url, extra)

    def roll_view(self, request: HttpRequest, key_id: Any) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:payments_merchantapikey_change", args=[key_id]))
        if not self.has_change_permission(request):
            raise PermissionDenied
        key = get_object_or_404(MerchantAPIKey, pk=key_id)
        try:
            hours = int(request.POST.get("grace_hours", "0"))
        except ValueError:
            hours = 0
        if hours not in dict(ROLL_GRACE_CHOICES):
            hours = 0
        try:
            new = api_keys.merchant_api_key_roll(
                key=key, grace=timedelta(hours=hours), actor=_user_of(request), request=request
            )
        except api_keys.APIKeyError as exc:
            key.refresh_from_db()
            if key.replaced_by is not None:
                # A second click on Roll: the first answer showed the new secret, and this one replaces that page.
                self.message_user(
                    request,
                    f"This key was already rolled: its replacement is {key.replaced_by.masked}. The replacement's "
                    "secret was shown once, on the page the first click opened; if it was not copied, roll the "
                    "replacement key below.",
                    messages.WARNING,
                )
                return HttpResponseRedirect(reverse("admin:payments_merchantapikey_change", args=[key.replaced_by_id]))
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:payments_merchantapikey_change", args=[key.pk]))
        until = "now" if hours == 0 else f"in {hours} hour{'s' if hours != 1 else ''}"
        return _secret_page(
            self,
            request,
            title="Copy the rolled API key now",
            secret=new.secret,
            obj=new.key,
            note=f"This is the only time the secret key is shown. The old key ({key.masked}) stops working {until}.",
        )

    def revoke_view(self, request: HttpRequest, key_id: Any) -> HttpResponse:
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            key = get_object_or_404(MerchantAPIKey, pk=key_id)
            api_keys.merchant_api_key_revoke(key=key, actor=_user_of(request), request=request)
            self.message_user(request, f"{key.masked} is revoked: requests with it now answer 401.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:payments_merchantapikey_change", args=[key_id]))

    @admin.action(description="Revoke the selected keys now")
    def revoke_action(self, request: HttpRequest, queryset: QuerySet[MerchantAPIKey]) -> None:
        for key in queryset:
            api_keys.merchant_api_key_revoke(key=key, actor=_user_of(request), request=request)
        self.message_user(request, f"{queryset.count()} key(s) revoked.", messages.SUCCESS)


class WebhookEndpointForm(forms.ModelForm[MerchantWebhookEndpoint]):
    url = forms.URLField(label="Endpoint URL", max_length=2000, assume_scheme="https")
    enabled_events = forms.MultipleChoiceField(
        choices=MerchantEventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Leave all unticked to send every event type.",
    )

    class Meta:
        model = MerchantWebhookEndpoint
        fields = ("merchant", "url", "mode", "description", "enabled_events", "active")


class AttemptInline(ReadOnlyInline):
    model = MerchantWebhookAttempt
    fields = ("number", "attempted_at", "status_code", "error", "duration_ms", "succeeded", "manual")
    readonly_fields = fields
    show_change_link = False


@admin.register(MerchantWebhookEndpoint)
class MerchantWebhookEndpointAdmin(admin.ModelAdmin[MerchantWebhookEndpoint]):
    """Ops register a merchant's webhook URL; its signing secret is shown once (and on roll)."""

    form = WebhookEndpointForm
    list_display = ("url", "merchant", "mode", "active", "events", "created_at")
    list_filter = ("mode", "active", "merchant")
    search_fields = ("url", "merchant__name")
    list_select_related = ("merchant",)
    readonly_fields = ("created_at", "created_by", "secret_rolled_at", "deliveries_link")
    change_form_template = "payments/api/admin_endpoint_change_form.html"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The merchant and the mode are fixed once deliveries may exist.
        return (*self.readonly_fields, "merchant", "mode") if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("merchant", "url", "mode", "description", "enabled_events", "active")
        return ("merchant", "mode", "url", "description", "enabled_events", "active", *self.readonly_fields)

    @admin.display(description="Events")
    def events(self, obj: MerchantWebhookEndpoint) -> str:
        return ", ".join(obj.enabled_events) if obj.enabled_events else "All events"

    @admin.display(description="Deliveries")
    def deliveries_link(self, obj: MerchantWebhookEndpoint) -> str:
        url = reverse("admin:payments_merchantwebhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{} deliveries</a>', url, obj.deliveries.count())

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            if not self.has_add_permission(request):
                raise PermissionDenied
            form = WebhookEndpointForm(request.POST)
            if form.is_valid():
                try:
                    endpoint, secret = merchant_webhooks.merchant_webhook_endpoint_create(
                        merchant=form.cleaned_data["merchant"],
                        url=form.cleaned_data["url"],
                        mode=form.cleaned_data["mode"],
                        description=form.cleaned_data["description"],
                        enabled_events=list(form.cleaned_data["enabled_events"]),
                        actor=_user_of(request),
                        request=request,
                    )
                except ValidationError as exc:
                    self.message_user(request, " ".join(exc.messages), messages.ERROR)
                else:
                    if not form.cleaned_data["active"]:
                        MerchantWebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
                    return _secret_page(
                        self,
                        request,
                        title="Copy the endpoint's signing secret now",
                        secret=secret,
                        obj=endpoint,
                        note="The merchant verifies every event's FlexLMN-Signature header with this secret "
                        "(docs/INTEGRATION.md). It is shown only now; rolling it makes a new one.",
                    )
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: MerchantWebhookEndpoint, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        from accounts.services import audit_record

        audit_record(action="webhook_endpoint.updated", request=request, obj=obj, extra={"active": obj.active})

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path("<uuid:endpoint_id>/roll-secret/", self.admin_site.admin_view(self.roll_secret_view), name="payments_merchantwebhookendpoint_roll"),
        ]  # fmt: skip
        return custom + super().get_urls()

    def roll_secret_view(self, request: HttpRequest, endpoint_id: Any) -> HttpResponse:
        endpoint = get_object_or_404(MerchantWebhookEndpoint, pk=endpoint_id)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:payments_merchantwebhookendpoint_change", args=[endpoint.pk]))
        if not self.has_change_permission(request):
            raise PermissionDenied
        secret = merchant_webhooks.merchant_webhook_endpoint_roll_secret(
            endpoint=endpoint, actor=_user_of(request), request=request
        )
        return _secret_page(
            self,
            request,
            title="Copy the new signing secret now",
            secret=secret,
            obj=endpoint,
            note="Events from now on are signed with this secret; the old one no longer verifies.",
        )


class DeliveryInline(ReadOnlyInline):
    model = MerchantWebhookDelivery
    fields = ("endpoint", "status", "attempt_count", "last_status_code", "next_attempt_at", "delivered_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[MerchantWebhookDelivery]:
        # Each row shows its endpoint, and its title (``__str__``) the event's type: one query, not two per row.
        return super().get_queryset(request).select_related("event", "endpoint")


@admin.register(MerchantEvent)
class MerchantEventAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "type", "merchant", "livemode", "checkout_session", "created_at")
    list_filter = ("type", "livemode", "merchant")
    search_fields = ("id", "checkout_session__id")
    list_select_related = ("merchant", "checkout_session")
    inlines = (DeliveryInline,)
    readonly_fields = ("public_id", "type", "merchant", "livemode", "checkout_session", "payload", "created_at")
    fields = readonly_fields


@admin.register(MerchantWebhookDelivery)
class MerchantWebhookDeliveryAdmin(admin.ModelAdmin[MerchantWebhookDelivery]):
    """Every delivery and its attempts (status code, time, error); Resend sends it again now."""

    list_display = ("event_type", "endpoint", "status", "attempt_count", "last_status_code", "last_attempt_at", "next_attempt_at")  # fmt: skip
    list_filter = ("status", "event__type", "endpoint__merchant")
    search_fields = ("event__id", "endpoint__url")
    list_select_related = ("event", "endpoint")
    inlines = (AttemptInline,)
    actions = ("resend_action",)
    readonly_fields = ("event", "endpoint", "status", "attempt_count", "next_attempt_at", "retry_until", "last_attempt_at", "last_status_code", "last_error", "delivered_at", "failed_at", "created_at", "payload")  # fmt: skip
    fields = readonly_fields
    change_form_template = "payments/api/admin_delivery_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, obj: MerchantWebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description="Payload (ids and statuses only)")
    def payload(self, obj: MerchantWebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.event.payload, indent=2, sort_keys=True))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Nothing here is edited by hand: the only action is Resend.
        extra = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path("<uuid:delivery_id>/resend/", self.admin_site.admin_view(self.resend_view), name="payments_merchantwebhookdelivery_resend"),
        ]  # fmt: skip
        return custom + super().get_urls()

    def resend_view(self, request: HttpRequest, delivery_id: Any) -> HttpResponse:
        delivery = get_object_or_404(MerchantWebhookDelivery, pk=delivery_id)
        if request.method == "POST":
            if not self.has_change_permission(request):
                raise PermissionDenied
            merchant_webhooks.merchant_webhook_resend(delivery=delivery, actor=_user_of(request), request=request)
            self.message_user(request, "Sent again; the attempt is listed below.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:payments_merchantwebhookdelivery_change", args=[delivery.pk]))

    @admin.action(description="Resend the selected deliveries now")
    def resend_action(self, request: HttpRequest, queryset: QuerySet[MerchantWebhookDelivery]) -> None:
        count = 0
        for delivery in queryset:
            merchant_webhooks.merchant_webhook_resend(delivery=delivery, actor=_user_of(request), request=request)
            count += 1
        self.message_user(request, f"{count} deliver{'y' if count == 1 else 'ies'} sent again.", messages.SUCCESS)
