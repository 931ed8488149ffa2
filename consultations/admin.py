"""Ops manage questionnaires, clinical templates, clinicians and licenses here.

Consultations are listed read-only and without health data: answers and
decisions are for the reviewing clinician, not for the operations admin.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import Prefetch, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from accounts.models import User
from accounts.services import audit_record

from .models import CategoryClinicalTemplate, ClinicianProfile, Consultation, License, Questionnaire
from .services import ConsultationError, license_verify, questionnaire_new_version, questionnaire_publish


def _ops(request: HttpRequest) -> User:
    # The admin only opens for signed-in staff.
    return cast(User, request.user)


class PrettyJSONField(forms.JSONField):
    """Shows stored JSON indented, so ops can read and edit it."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class QuestionnaireForm(forms.ModelForm[Questionnaire]):
    questions = PrettyJSONField(widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "class": "vLargeTextField"}))

    class Meta:
        model = Questionnaire
        fields = ("category", "version", "title", "introduction", "questions")


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin[Questionnaire]):
    form = QuestionnaireForm
    list_display = ("title", "category", "version", "published_at", "question_count")
    list_filter = ("category", ("published_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "category__name")
    actions = ("publish", "new_version")
    readonly_fields = ("published_at", "published_by", "created_at")

    @admin.display(description="questions")
    def question_count(self, obj: Questionnaire) -> int:
        return len(obj.questions)

    def get_readonly_fields(self, request: HttpRequest, obj: Questionnaire | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_published:
            # Published versions are immutable: consultations were asked exactly these questions.
            fields += ["category", "version", "title", "introduction", "questions"]
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Questionnaire | None = None) -> bool:
        return obj is None or not obj.is_published

    @admin.action(description="Publish the selected draft versions")
    def publish(self, request: HttpRequest, queryset: QuerySet[Questionnaire]) -> None:
        for questionnaire in queryset:
            try:
                questionnaire_publish(questionnaire=questionnaire, actor=_ops(request), request=request)
            except ConsultationError as exc:
                self.message_user(request, f"{questionnaire}: {exc}", messages.WARNING)
            else:
                self.message_user(request, f"Published {questionnaire}.", messages.SUCCESS)

    @admin.action(description="Copy into a new draft version")
    def new_version(self, request: HttpRequest, queryset: QuerySet[Questionnaire]) -> None:
        for questionnaire in queryset:
            draft = questionnaire_new_version(questionnaire=questionnaire, actor=_ops(request), request=request)
            self.message_user(request, f"Created {draft}: edit it, then publish it.", messages.SUCCESS)


class ClinicalTemplateForm(forms.ModelForm[CategoryClinicalTemplate]):
    icd10_codes = PrettyJSONField(
        label="ICD-10 codes", widget=forms.Textarea(attrs={"rows": 14, "cols": 100, "class": "vLargeTextField"})
    )

    class Meta:
        model = CategoryClinicalTemplate
        fields = (
            "category",
            "icd10_codes",
            "diagnosis_template",
            "history_template",
            "treatment_frequency_template",
            "treatment_duration_template",
            "justification_template",
        )
        help_texts = {
            "diagnosis_template": "Placeholders: {products} {categories} {age} {sex} {state} {answer:<question key>}",
        }


@admin.register(CategoryClinicalTemplate)
class CategoryClinicalTemplateAdmin(admin.ModelAdmin[CategoryClinicalTemplate]):
    form = ClinicalTemplateForm
    list_display = ("category", "code_count", "updated_at")

    @admin.display(description="ICD-10 codes")
    def code_count(self, obj: CategoryClinicalTemplate) -> int:
        return len(obj.icd10_codes)


LICENSE_KEY_FIELDS = {"state", "number", "expires_on"}


def _reset_verification_if_changed(request: HttpRequest, license_: License, changed: set[str]) -> None:
    """A license whose state, number or expiry changed must be verified again."""
    if license_.pk and changed & LICENSE_KEY_FIELDS and license_.verified_at is not None:
        license_.verified_at = None
        license_.verified_by = None
        audit_record(action="license.unverified", request=request, obj=license_, extra={"state": license_.state})


class LicenseInlineFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    request: HttpRequest

    def save_existing(self, form: Any, obj: Any, commit: bool = True) -> Any:
        _reset_verification_if_changed(self.request, obj, set(form.changed_data))
        return super().save_existing(form, obj, commit=commit)


class LicenseInline(admin.TabularInline[License, ClinicianProfile]):
    model = License
    formset = LicenseInlineFormSet
    extra = 1
    fields = ("state", "number", "expires_on", "verified_by", "verified_at")
    readonly_fields = ("verified_by", "verified_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[License]:
        # Each row shows who verified it: read with the licenses, not one query per row.
        return super().get_queryset(request).select_related("verified_by")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        return type("RequestLicenseFormSet", (formset,), {"request": request})


@admin.register(ClinicianProfile)
class ClinicianProfileAdmin(admin.ModelAdmin[ClinicianProfile]):
    list_display = ("legal_name", "credential", "npi", "user", "active", "license_states")
    list_filter = ("credential", "active")
    search_fields = ("legal_name", "npi", "user__email")
    autocomplete_fields = ("user",)
    inlines = (LicenseInline,)
    fieldsets = (
        (None, {"fields": ("user", "legal_name", "credential", "npi", "active")}),
        ("Printed on letters", {"fields": ("phone", "contact_email", "signature_image", "typed_signature")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClinicianProfile]:
        # The list shows every clinician's valid licenses: one query for the page, not one per row.
        valid = Prefetch("licenses", queryset=License.objects.valid(), to_attr="valid_licenses")
        return super().get_queryset(request).prefetch_related(valid)

    @admin.display(description="licenses (verified and current)")
    def license_states(self, obj: ClinicianProfile) -> str:
        licenses = getattr(obj, "valid_licenses", None)
        if licenses is None:
            licenses = obj.licenses.valid()
        return ", ".join(sorted(license.state for license in licenses)) or "—"

    def save_model(self, request: HttpRequest, obj: ClinicianProfile, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            action="clinician_profile.changed" if change else "clinician_profile.created", request=request, obj=obj
        )


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin[License]):
    list_display = ("clinician", "state", "number", "expires_on", "verified_by", "verified_at")
    # verified_by may be empty, so the admin's automatic select_related would leave it to one query per row.
    list_select_related = ("clinician", "verified_by")
    list_filter = ("state", ("verified_at", admin.EmptyFieldListFilter))
    search_fields = ("number", "clinician__legal_name", "clinician__npi")
    readonly_fields = ("verified_by", "verified_at", "created_at")
    actions = ("verify",)

    def save_model(self, request: HttpRequest, obj: License, form: Any, change: bool) -> None:
        if change:
            _reset_verification_if_changed(request, obj, set(form.changed_data))
        super().save_model(request, obj, form, change)

    @admin.action(description="Verify the selected licenses (checked with the state board)")
    def verify(self, request: HttpRequest, queryset: QuerySet[License]) -> None:
        for license_ in queryset:
            license_verify(license=license_, actor=_ops(request), request=request)
        self.message_user(request, f"Verified {queryset.count()} license(s).", messages.SUCCESS)


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin[Consultation]):
    """Where each consultation stands; no answers and no diagnosis."""

    list_display = (
        "reference",
        "status",
        "kind",
        "livemode",
        "state",
        "created_at",
        "submitted_at",
        "review_deadline",
        "decided_at",
    )
    list_filter = ("status", "kind", "livemode", "state")
    search_fields = ("id", "patient__email", "order__id")
    date_hierarchy = "created_at"
    fields = (
        "patient",
        "kind",
        "livemode",
        "status",
        "state",
        "order",
        "created_at",
        "submitted_at",
        "review_deadline",
        "claimed_by",
        "claimed_at",
        "decided_by",
        "decided_at",
        "ended_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
