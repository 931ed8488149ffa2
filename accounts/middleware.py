from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .selectors import user_has_totp
from .services import audit_record

_REQUEST_ID = re.compile(r"[A-Za-z0-9\-]{8,64}")

# Pages that need a second factor before they open.
MFA_PROTECTED_PREFIXES = ("/clinician/", "/admin/")

SESSION_AUTH_AT = "flexlmn.auth_at"
SESSION_LAST_SEEN = "flexlmn.last_seen"


class RequestIdMiddleware:
    """Give every request an id, echoed in X-Request-ID and stored in audit events."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


LAST_SEEN_RESOLUTION_SECONDS = 30


class PrivilegedSessionMiddleware:
    """End clinician and ops sessions after 15 idle minutes or 12 hours."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.requires_mfa:
            now = time.time()
            auth_at = request.session.setdefault(SESSION_AUTH_AT, now)
            last_seen = request.session.get(SESSION_LAST_SEEN, now)
            idle = now - last_seen > settings.PRIVILEGED_SESSION_IDLE_SECONDS
            too_old = now - auth_at > settings.PRIVILEGED_SESSION_MAX_SECONDS
            if idle or too_old:
                # Only this session ends (not the user's other devices): flush it, then audit.
                audit_record(
                    action="auth.session_expired",
                    request=request,
                    actor=user,
                    obj=user,
                    extra={"reason": "idle" if idle else "max_age"},
                )
                request.session.flush()
                request.user = AnonymousUser()
                messages.info(
                    request,
                    "For your patients' privacy you were signed out after 15 idle minutes"
                    if idle
                    else "For your patients' privacy sessions last at most 12 hours",
                )
                login_url = reverse("account_login")
                return HttpResponseRedirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
            # Written at most every LAST_SEEN_RESOLUTION seconds, so a busy clinician's every page view is not also
            # a session write; the idle limit is then measured from up to that much earlier (never later).
            if now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS or SESSION_LAST_SEEN not in request.session:
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class MFARequiredMiddleware:
    """Send a clinician or ops user without TOTP to set it up before their pages open."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.requires_mfa
            and request.path.startswith(MFA_PROTECTED_PREFIXES)
            and not user_has_totp(user)
        ):
            messages.warning(
                request,
                "Your role gives access to health data, so two-factor authentication is required. "
                "Set up an authenticator app to continue.",
            )
            url = reverse("mfa_activate_totp")
            return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
