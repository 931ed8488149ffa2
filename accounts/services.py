"""Writes for accounts: users and the audit log."""

from __future__ import annotations

import re
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest

from .models import AuditEvent, Role, User

_SAFE_EXTRA_TYPES = (str, int, float, bool, type(None))


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: the proxy in front of gunicorn is configured to set it
    # (docs/DEPLOY.md); a client-supplied X-Forwarded-For is never trusted here.
    ip = request.META.get("REMOTE_ADDR") or None
    return ip if ip and re.fullmatch(r"[0-9a-fA-F:.]{2,45}", ip) else None


def audit_record(
    *,
    action: str,
    actor: User | Any | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    request: HttpRequest | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event.

    ``action`` is ``<noun>.<verb>`` (``consultation.viewed``). ``extra`` holds
    non-health metadata only (a status, a count); values must be scalars.
    When ``actor`` is omitted, the request's user is used.
    """
    if not re.fullmatch(r"[a-z_]+\.[a-z_]+", action):
        raise ValueError(f"Audit action must look like 'noun.verb', got {action!r}")
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    user = actor if isinstance(actor, User) else None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    clean_extra = {str(k): v for k, v in (extra or {}).items() if isinstance(v, _SAFE_EXTRA_TYPES)}
    from .audit import audit_seal_on_commit

    event = AuditEvent.objects.create(
        actor=user,
        actor_role=user.role if user else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        request_id=getattr(request, "request_id", "") if request is not None else "",
        ip_address=_client_ip(request),
        extra=clean_extra,
    )
    # Link it into the hash chain once it is committed (at once in autocommit).
    audit_seal_on_commit()
    return event


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    role: Role = Role.SHOPPER,
    first_name: str = "",
    last_name: str = "",
    actor: User | None = None,
) -> User:
    """Create a user with a role; ops users can open the admin."""
    user = User.objects.create_user(
        email=email,
        password=password,
        role=role,
        first_name=first_name,
        last_name=last_name,
        is_staff=role == Role.OPS,
    )
    audit_record(action="user.created", actor=actor, obj=user, extra={"role": str(role)})
    return user


def user_end_all_sessions(*, user: User, reason: str, request: HttpRequest | None = None) -> None:
    """End every session of ``user`` on every device (logout, deactivation).

    Sessions carry a hash of the password and ``session_generation``; bumping
    the generation makes every existing session cookie worthless.
    """
    User.objects.filter(pk=user.pk).update(session_generation=models.F("session_generation") + 1)
    audit_record(action="auth.sessions_ended", actor=user, obj=user, request=request, extra={"reason": reason})


def user_deactivate(*, user: User, actor: User | None, request: HttpRequest | None = None) -> None:
    """Deactivate an account: it can no longer sign in and its sessions end now."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        user_end_all_sessions(user=locked, reason="deactivated", request=request)
        audit_record(action="user.deactivated", actor=actor, obj=locked, request=request)
