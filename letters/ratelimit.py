"""A per-IP rate limit for the public verification pages, kept in the shared cache.

A fixed window counter (``cache.add`` then ``cache.incr``, both atomic on
Redis and the database cache), so every web process counts together; nothing
is kept in process memory.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .conf import verify_rate_limit


def _client_key(request: HttpRequest, scope: str, window: int) -> str:
    # REMOTE_ADDR only (the proxy sets it, see accounts.services); hashed so the cache keeps no address.
    ip = request.META.get("REMOTE_ADDR") or "unknown"
    digest = hashlib.sha256(ip.encode()).hexdigest()[:32]
    return f"letters:rl:{scope}:{digest}:{int(time.time() // window)}"


def hit(request: HttpRequest, scope: str = "verify") -> tuple[bool, int]:
    """Count one request; return (allowed, seconds until the window resets)."""
    limit, window = verify_rate_limit()
    key = _client_key(request, scope, window)
    if cache.add(key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.add(key, 1, timeout=window + 1)
            count = 1
    retry_after = window - int(time.time() % window)
    return count <= limit, retry_after


def verify_rate_limited(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 429 with a page saying when to try again once an IP exceeds the limit."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        allowed, retry_after = hit(request)
        if not allowed:
            response = render(request, "letters/rate_limited.html", {"retry_after": retry_after}, status=429)
            response["Retry-After"] = str(retry_after)
            response["Cache-Control"] = "no-store"
            return response
        return view(request, *args, **kwargs)

    return wrapped
