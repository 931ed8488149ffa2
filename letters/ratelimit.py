"""A per-IP rate limit for the public verification pages, counted by ``flexlmn.ratelimit`` in the shared cache."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from flexlmn.ratelimit import client_rate_limit_hit

from .conf import verify_rate_limit


def verify_rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 429 with a page saying when to try again once an IP exceeds the limit."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limit, window = verify_rate_limit()
        hit = client_rate_limit_hit(request, scope="letters.verify", limit=limit, window=window)
        if not hit.allowed:
            response = render(request, "letters/rate_limited.html", {"retry_after": hit.retry_after}, status=429)
            response["Retry-After"] = str(hit.retry_after)
            response["Cache-Control"] = "no-store"
            return response
        return view(request, *args, **kwargs)

    return wrapped
