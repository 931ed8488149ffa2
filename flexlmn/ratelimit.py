"""Fixed-window rate limits kept in the shared cache, so every web process counts together.

One counter per scope, client and window: the key carries the window's number,
so a new window starts a new count, and the client's address is hashed, so the
cache keeps no address.

Why ``touch`` after ``incr``: the database cache (the deployment without Redis)
implements ``incr`` as a get and a ``set`` with the *default* timeout (300 s), so
a counter for a longer window would be forgotten five minutes after its last
hit and the count would start again mid-window. ``touch`` gives it back the
window's end on every backend.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class RateLimitHit:
    allowed: bool
    count: int
    retry_after: int


def rate_limit_hit(*, scope: str, ident: str, limit: int, window: int) -> RateLimitHit:
    """Count one request by ``ident`` in ``scope``; ``allowed`` is False past ``limit`` per ``window`` seconds."""
    now = time.time()
    bucket = int(now // window)
    retry_after = max(1, math.ceil((bucket + 1) * window - now))
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    key = f"flexlmn:rl:{scope}:{digest}:{bucket}"
    if cache.add(key, 1, timeout=retry_after + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # the entry expired between add and incr
            cache.add(key, 1, timeout=retry_after + 1)
            count = 1
        else:
            cache.touch(key, retry_after + 1)
    return RateLimitHit(allowed=count <= limit, count=count, retry_after=retry_after)


def client_rate_limit_hit(request: HttpRequest, *, scope: str, limit: int, window: int) -> RateLimitHit:
    """:func:`rate_limit_hit` per client address: REMOTE_ADDR only (the proxy sets it, see accounts.services)."""
    ident = str(request.META.get("REMOTE_ADDR") or "unknown")
    return rate_limit_hit(scope=scope, ident=ident, limit=limit, window=window)
