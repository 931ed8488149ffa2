"""Bearer authentication with a merchant's secret key, and a rate limit per key.

The rate limit is a fixed window counted in Django's cache by
:func:`flexlmn.ratelimit.rate_limit_hit` (Redis in production, so every web node
shares the count). The defaults can be changed
with ``MERCHANT_API_RATE_LIMIT`` (requests) per ``MERCHANT_API_RATE_WINDOW`` (seconds).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from flexlmn.ratelimit import rate_limit_hit

from ..models import MerchantAPIKey
from .errors import ApiError
from .keys import KeyRejected, merchant_api_key_authenticate

DEFAULT_RATE_LIMIT = 600
DEFAULT_RATE_WINDOW = 60
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="FlexLMN merchant API"'}


def rate_limit(key: MerchantAPIKey) -> None:
    """Count one request for ``key``; over the limit raises a 429 with ``Retry-After``."""
    limit = int(getattr(settings, "MERCHANT_API_RATE_LIMIT", DEFAULT_RATE_LIMIT))
    window = int(getattr(settings, "MERCHANT_API_RATE_WINDOW", DEFAULT_RATE_WINDOW))
    hit = rate_limit_hit(scope="merchant-api", ident=str(key.pk), limit=limit, window=window)
    if not hit.allowed:
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests with this key ({limit} per {window} seconds). Retry after {hit.retry_after} seconds.",
            headers={"Retry-After": str(hit.retry_after)},
        )


class MerchantKeyAuth(HttpBearer):
    """``Authorization: Bearer flx_test_sk_…`` → the :class:`MerchantAPIKey` (``request.auth``)."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if not header:
            raise ApiError(
                401,
                "missing_api_key",
                "Send your secret key in the Authorization header: `Authorization: Bearer flx_test_sk_…`.",
                headers=_CHALLENGE,
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "invalid_authorization",
                "The Authorization header must be `Bearer <your secret key>`.",
                headers=_CHALLENGE,
            )
        try:
            key = merchant_api_key_authenticate(token=token)
        except KeyRejected as exc:
            raise ApiError(401, exc.code, exc.message, headers=_CHALLENGE) from None
        rate_limit(key)
        return key

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # Everything happens in __call__, which controls the error answers.
        return None
