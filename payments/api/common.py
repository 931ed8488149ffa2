"""Helpers shared by the API's routers: the caller's key, error responses for OpenAPI, pagination."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone

from marketplace.models import Merchant

from ..models import MerchantAPIKey
from .errors import ErrorResponse, invalid

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


def api_key(request: HttpRequest) -> MerchantAPIKey:
    key = getattr(request, "auth", None)
    assert isinstance(key, MerchantAPIKey)
    return key


def merchant(request: HttpRequest) -> Merchant:
    return api_key(request).merchant


def errors(*statuses: int) -> dict[int, Any]:
    """Every operation documents 401 (bad key) and 429 (rate limit) besides its own errors."""
    return {status: ErrorResponse for status in sorted({401, 429, *statuses})}


def parse_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except (TypeError, ValueError):
        return None


def aware(value: datetime | None, param: str) -> datetime | None:
    """A filter datetime in UTC; a naive one is taken as UTC. Out-of-range values are a 400, not a 500."""
    if value is None:
        return None
    try:
        if timezone.is_naive(value):
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise invalid(param, "is out of range") from None
