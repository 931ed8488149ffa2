"""``Idempotency-Key``: a retried POST with the same key and body gets the first answer again.

The key row, the work and the stored answer commit in one transaction. Two
requests racing with one key: PostgreSQL makes the second insert wait on the
first's uncommitted unique-index entry, then fail; the second request then
reads the committed answer and replays it. An error answer is not stored (the
work rolled back), so the merchant can fix the request and retry with the key.
Keys are kept for as long as the merchant's data; reusing one for a different
request answers 422 ``idempotency_key_reused``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from ..models import MerchantAPIKey, MerchantIdempotencyKey
from .errors import ApiError

HEADER = "Idempotency-Key"
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}", re.ASCII)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def _fingerprint(method: str, path: str, payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _jsonable(body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    return result


def idempotent(
    *,
    key: str | None,
    api_key: MerchantAPIKey,
    method: str,
    path: str,
    payload: dict[str, Any],
    work: Callable[[], tuple[int, dict[str, Any]]],
) -> Answer:
    """Run ``work`` once per ``key`` (per merchant and mode); without a key, just run it (in a transaction)."""
    if key is None:
        with transaction.atomic():
            status, body = work()
        return Answer(status, body)
    if not _VALID_KEY.fullmatch(key):
        raise ApiError(
            400,
            "idempotency_key_invalid",
            f"{HEADER}: use 1 to 255 visible ASCII characters (a UUID is a good key).",
            param=HEADER,
        )
    scope = {"merchant": api_key.merchant, "livemode": api_key.livemode, "key": key}
    fingerprint = _fingerprint(method, path, payload)
    existing = MerchantIdempotencyKey.objects.filter(**scope).first()
    if existing is None:
        try:
            with transaction.atomic():
                record = MerchantIdempotencyKey.objects.create(
                    **scope, fingerprint=fingerprint, status_code=0, response={}
                )
                status, body = work()
                record.status_code = status
                record.response = _jsonable(body)
                record.save(update_fields=["status_code", "response"])
            return Answer(status, body)
        except IntegrityError:
            existing = MerchantIdempotencyKey.objects.filter(**scope).first()
            if existing is None:
                raise
    if existing.fingerprint != fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            f"This {HEADER} was already used for a different request. Use a new key for a new request.",
            param=HEADER,
        )
    return Answer(existing.status_code, existing.response, replayed=True)
