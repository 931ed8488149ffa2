from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from .models import AuditEvent, User
from .services import audit_record, user_deactivate

# Fields that decide what a user may open (a deactivation has its own service).
ACCESS_FIELDS = ("role", "is_staff", "is_superuser", "is_active")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "role", "is_active", "is_staff", "date_joined")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("email", "first_name", "last_name")
    readonly_fields = ("date_joined", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "role")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "role", "password1", "password2")}),)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        before = User.objects.filter(pk=obj.pk).values(*ACCESS_FIELDS).first() if change else None
        super().save_model(request, obj, form, change)
        if before is None:
            audit_record(action="user.created", request=request, obj=obj, extra={"role": obj.role})
            return
        # Who may open what (role, admin access, signing in at all) is audited like any other state change;
        # a deactivation is audited by its own service below.
        deactivated = before["is_active"] and not obj.is_active
        extra: dict[str, Any] = {}
        for name in ACCESS_FIELDS:
            if getattr(obj, name) != before[name] and not (name == "is_active" and deactivated):
                extra[f"{name}_from"], extra[f"{name}_to"] = before[name], getattr(obj, name)
        if extra:
            audit_record(action="user.access_changed", request=request, obj=obj, extra=extra)
        if deactivated:
            # Deactivation ends every session of the user at once (and is audited there).
            actor = request.user if isinstance(request.user, User) else None
            user_deactivate(user=obj, actor=actor, request=request)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Groups and permissions open admin pages as a role does; they are saved here, after save_model.
        before = _granted(form.instance) if change else (set(), set())
        super().save_related(request, form, formsets, change)
        after = _granted(form.instance)
        # Comma-separated: an audit record's extra holds plain values only.
        extra: dict[str, Any] = {}
        for name, old, new in (("groups", before[0], after[0]), ("permissions", before[1], after[1])):
            if new - old:
                extra[f"{name}_added"] = ", ".join(sorted(new - old))
            if old - new:
                extra[f"{name}_removed"] = ", ".join(sorted(old - new))
        if extra:
            audit_record(action="user.access_changed", request=request, obj=form.instance, extra=extra)


def _granted(user: User) -> tuple[set[str], set[str]]:
    """The user's own groups (by name) and permissions (as ``app_label.codename``)."""
    groups = set(user.groups.values_list("name", flat=True))
    permissions = {
        f"{app}.{codename}"
        for app, codename in user.user_permissions.values_list("content_type__app_label", "codename")
    }
    return groups, permissions


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Read-only: the audit log is append-only."""

    list_display = ("created_at", "action", "actor", "actor_role", "object_type", "object_id", "ip_address")
    list_filter = ("action", "actor_role", "object_type")
    search_fields = ("object_id", "request_id", "actor__email")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
