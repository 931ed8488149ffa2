"""Audit receivers for sign-in events (a cross-cutting concern, so signals)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver
from django.http import HttpRequest

from .services import audit_record, user_end_all_sessions


@receiver(user_logged_in)
def _audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(action="auth.login", actor=user, obj=user, request=request)


@receiver(user_logged_out)
def _audit_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action="auth.logout", actor=user, obj=user, request=request)
        # Signing out signs out everywhere: a copied or forgotten session cookie is dead too.
        user_end_all_sessions(user=user, reason="logout", request=request)


@receiver(user_login_failed)
def _audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The attempted email is not stored: it may belong to nobody, or be mistyped health-adjacent text.
    audit_record(action="auth.login_failed", request=request, actor=None)
