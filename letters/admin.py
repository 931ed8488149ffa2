"""Ops run letters here: read letters, revoke them with a reason, resend them, watch deliveries, set request fees.

Letters are issued only by clinicians, so nothing here adds, edits or deletes
one; every status change goes through ``letters.services``. Opening a letter
(which shows health data) is audited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.models import User
from accounts.services import audit_record
from marketplace.templatetags.marketplace_tags import usd

from . import services
from .forms import RevokeForm
from .models import (
    DeliveryStatus,
    IllegalLetterTransition,
    Letter,
    LetterCorrectionRequest,
    LetterDelivery,
    LetterNotice,
    LetterRequest,
    LetterRequestFee,
)


def _ops(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


class ReadOnlyAdminMixin:
    """Rows written only by services: ops read them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LetterDeliveryInline(ReadOnlyAdminMixin, admin.TabularInline[LetterDelivery, Letter]):
    model = LetterDelivery
    fields = ("reason", "status", "attempts", "last_error", "queued_at", "next_attempt_at", "sent_at", "failed_at")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[LetterDelivery]:
        # Each row's title (``__str__``) names the letter: read with the deliveries, not one query per row.
        return super().get_queryset(request).select_related("letter")


def _resend(modeladmin: admin.ModelAdmin[Any], request: HttpRequest, letters: list[Letter]) -> None:
    sent = 0
    for letter in letters:
        try:
            services.letter_resend(letter=letter, actor=_ops(request), request=request)
        except services.LetterError as exc:
            modeladmin.message_user(request, str(exc), messages.WARNING)
        else:
            sent += 1
    if sent:
        modeladmin.message_user(request, f"{sent} letter email{'s' if sent != 1 else ''} queued again.")


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin[Letter]):
    """Letters are issued by clinicians; ops read, revoke and resend them here."""

    list_display = (
        "reference",
        "version",
        "status",
        "patient",
        "clinician_name",
        "issued_at",
        "valid_until",
        "delivery_status",
    )
    list_filter = ("status", "deliveries__status")
    search_fields = ("id", "patient__email", "clinician_name", "verification_token", "pdf_sha256")
    date_hierarchy = "issued_at"
    list_select_related = ("patient",)
    exclude = ("clinician_signature_image", "pdf")
    inlines = (LetterDeliveryInline,)
    actions = ("revoke_letters", "resend_letters")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [
            field.name
            for field in Letter._meta.get_fields()
            if field.concrete and field.name not in ("clinician_signature_image", "pdf")
        ] + ["covered_categories"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Letter]:
        # One query for every listed letter's deliveries, not one per row.
        return super().get_queryset(request).prefetch_related("deliveries")

    @admin.display(description="Email")
    def delivery_status(self, obj: Letter) -> str:
        deliveries = sorted(obj.deliveries.all(), key=lambda d: d.queued_at, reverse=True)
        return deliveries[0].get_status_display() if deliveries else "—"

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            audit_record(action="letter.viewed", request=request, object_type="letters.letter", object_id=object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Revoke the selected letters (asks for a reason)…", permissions=["change"])
    def revoke_letters(self, request: HttpRequest, queryset: QuerySet[Letter]) -> HttpResponse | None:
        letters = list(queryset.select_related("patient"))
        if request.POST.get("apply"):
            form = RevokeForm(request.POST)
            if form.is_valid():
                revoked = 0
                for letter in letters:
                    try:
                        services.letter_revoke(
                            letter=letter, actor=_ops(request), reason=form.cleaned_data["reason"], request=request
                        )
                    except (services.LetterError, IllegalLetterTransition):
                        self.message_user(
                            request,
                            f"{letter.reference} v{letter.version} is {letter.get_status_display().lower()}: "
                            "only an issued letter can be revoked.",
                            messages.WARNING,
                        )
                    else:
                        revoked += 1
                if revoked:
                    self.message_user(
                        request, f"Revoked {revoked} letter{'s' if revoked != 1 else ''}; shoppers are emailed."
                    )
                return None
        else:
            form = RevokeForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "letters": letters,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "title": "Revoke letters",
        }
        return TemplateResponse(request, "letters/admin/revoke.html", context)

    @admin.action(description="Email the selected letters to their shoppers again", permissions=["change"])
    def resend_letters(self, request: HttpRequest, queryset: QuerySet[Letter]) -> None:
        _resend(self, request, list(queryset.select_related("patient")))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change page is read-only (every field is); "change" lets ops run the actions.
        return bool(getattr(request.user, "is_ops", False)) and super().has_change_permission(request, obj)


@admin.register(LetterDelivery)
class LetterDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[LetterDelivery]):
    """Every email of a letter PDF: failed ones stand out and can be resent."""

    list_display = ("letter", "reason", "status", "attempts", "last_error", "queued_at", "next_attempt_at", "sent_at")
    list_filter = ("status", "reason")
    search_fields = ("letter__id", "recipient")
    list_select_related = ("letter",)
    readonly_fields = (
        "letter",
        "reason",
        "status",
        "recipient",
        "attempts",
        "last_error",
        "requested_by",
        "queued_at",
        "last_attempt_at",
        "next_attempt_at",
        "sent_at",
        "failed_at",
    )
    actions = ("resend",)

    @admin.action(description="Resend these letters (a new delivery each)")
    def resend(self, request: HttpRequest, queryset: QuerySet[LetterDelivery]) -> None:
        letters = {d.letter_id: d.letter for d in queryset.select_related("letter", "letter__patient")}
        _resend(self, request, list(letters.values()))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Read-only rows, but ops may still resend: the action creates a new delivery through the service.
        actions = super().get_actions(request)
        if not getattr(request.user, "is_ops", False):
            actions.pop("resend", None)
        return actions

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not request.GET:
            failed = LetterDelivery.objects.filter(status=DeliveryStatus.FAILED).count()
            if failed:
                self.message_user(
                    request,
                    f"{failed} letter email{'s' if failed != 1 else ''} failed: resend them below.",
                    messages.WARNING,
                )
        return super().changelist_view(request, extra_context)


@admin.register(LetterRequestFee)
class LetterRequestFeeAdmin(admin.ModelAdmin[LetterRequestFee]):
    """What a letter without a purchase costs per category; $0 is allowed."""

    list_display = ("category", "amount_cents", "fee", "active", "updated_at")
    list_editable = ("amount_cents", "active")
    list_select_related = ("category",)

    @admin.display(description="fee")
    def fee(self, obj: LetterRequestFee) -> str:
        return "no fee" if obj.amount_cents == 0 else usd(obj.amount_cents)


@admin.register(LetterCorrectionRequest)
class LetterCorrectionRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[LetterCorrectionRequest]):
    list_display = ("reference", "letter", "status", "created_at", "decided_by", "decided_at")
    list_filter = ("status",)
    list_select_related = ("letter", "decided_by")
    readonly_fields = (
        "letter",
        "requested_by",
        "legal_name",
        "date_of_birth",
        "note",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
        "new_letter",
        "created_at",
    )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            audit_record(
                action="letter_correction.viewed",
                request=request,
                object_type="letters.lettercorrectionrequest",
                object_id=object_id,
            )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(LetterRequest)
class LetterRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[LetterRequest]):
    list_display = ("__str__", "kind", "shopper", "category", "fee_cents", "order", "created_at")
    list_filter = ("kind",)
    list_select_related = ("shopper", "category", "order")
    readonly_fields = ("kind", "shopper", "consultation", "category", "renews", "fee_cents", "order", "created_at")


@admin.register(LetterNotice)
class LetterNoticeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[LetterNotice]):
    list_display = ("letter", "kind", "attempts", "sent_at", "created_at")
    list_filter = ("kind",)
    list_select_related = ("letter",)
    readonly_fields = ("letter", "kind", "reference", "attempts", "sent_at", "created_at")
