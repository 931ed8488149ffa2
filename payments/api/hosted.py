"""The hosted checkout page's merchant side: where the shopper returns, and the CSP that lets them.

The pay page's payment form posts to FlexLMN and is answered with a redirect to
the merchant's ``success_url``. Browsers apply the page's ``form-action``
directive to that redirect too, so a merchant session's pay page adds the
origins of its return URLs to ``form-action`` (and nothing else).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.http import HttpRequest, HttpResponse

from ..models import CheckoutSession, CheckoutSource

SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


def success_url(session: CheckoutSession) -> str:
    """The merchant's ``success_url`` with the session id filled in, or "" for a Flex Shop session."""
    if session.source != CheckoutSource.MERCHANT_API or not session.success_url:
        return ""
    return session.success_url.replace(SESSION_ID_PLACEHOLDER, str(session.pk))


def cancel_url(session: CheckoutSession) -> str:
    if session.source != CheckoutSource.MERCHANT_API or not session.cancel_url:
        return ""
    return session.cancel_url.replace(SESSION_ID_PLACEHOLDER, str(session.pk))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def return_origins(session_id: UUID | str) -> list[str]:
    urls = (
        CheckoutSession.objects.filter(pk=session_id, source=CheckoutSource.MERCHANT_API)
        .values_list("success_url", "cancel_url")
        .first()
    )
    if urls is None:
        return []
    return sorted({origin for origin in map(_origin, urls) if origin})


def allow_merchant_return(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Add the merchant's return origins to the response's ``form-action`` (merged with any other update)."""

    @wraps(view)
    def wrapped(request: HttpRequest, session_id: UUID, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, session_id, *args, **kwargs)
        if response.status_code < 300 or response.status_code >= 400:
            origins = return_origins(session_id)
            if origins:
                update: dict[str, list[str]] = dict(getattr(response, "_csp_update", None) or {})
                update["form-action"] = [*update.get("form-action", []), *origins]
                response._csp_update = update  # type: ignore[attr-defined]
        return response

    return wrapped
