"""Merchant API keys: create, roll, revoke, and find the key behind a bearer token.

A secret key is ``flx_<mode>_sk_`` followed by 40 random letters and digits
(about 238 bits from :mod:`secrets`). Only its SHA-256 is stored. A password
hash (Argon2) would buy nothing here: it slows down guessing a *low-entropy*
secret, and nobody can guess 238 random bits however fast the hash is. It would
cost ~50 ms and 64 MiB on every API request, and since a salted hash cannot be
looked up, every request would have to compare against every key. An unsalted
SHA-256 is looked up through a unique index in one query.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from marketplace.models import Merchant

from ..models import APIMode, MerchantAPIKey

_ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 40
KEY_PATTERN = re.compile(r"flx_(test|live)_sk_[A-Za-z0-9]{40}", re.ASCII)
# last_used_at is written at most this often per key, so reads do not turn every request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class APIKeyError(Exception):
    """A key operation that cannot be done; the message says why."""


@dataclass(frozen=True)
class NewKey:
    """A key just created and its secret: the only moment the secret exists outside the merchant's hands."""

    key: MerchantAPIKey
    secret: str


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(mode: str) -> str:
    return f"flx_{mode}_sk_" + "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))


@transaction.atomic
def merchant_api_key_create(
    *,
    merchant: Merchant,
    name: str,
    mode: str = APIMode.TEST,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> NewKey:
    """A new secret key for ``merchant``; the returned secret is shown once and never stored."""
    mode = APIMode(mode)
    name = name.strip()
    if not name:
        raise APIKeyError("Give the key a name.")
    secret = _new_secret(mode)
    key = MerchantAPIKey.objects.create(
        merchant=merchant, name=name[:100], mode=mode, secret_hash=key_hash(secret), last4=secret[-4:], created_by=actor
    )
    audit_record(action="api_key.created", actor=actor, request=request, obj=key, extra={"mode": str(mode)})
    return NewKey(key=key, secret=secret)


@transaction.atomic
def merchant_api_key_revoke(
    *, key: MerchantAPIKey, actor: User | None = None, request: HttpRequest | None = None
) -> MerchantAPIKey:
    """Stop the key now. Revoking a revoked key changes nothing."""
    locked = MerchantAPIKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    if locked.revoked_at is not None and locked.revoked_at <= now:
        return locked
    locked.revoked_at = now
    locked.save(update_fields=["revoked_at"])
    audit_record(action="api_key.revoked", actor=actor, request=request, obj=locked)
    return locked


@transaction.atomic
def merchant_api_key_roll(
    *,
    key: MerchantAPIKey,
    grace: timedelta = timedelta(0),
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> NewKey:
    """Replace a key: a new key with the same name and mode, and the old one revoked now or after ``grace``.

    A grace period lets the merchant deploy the new key before the old one stops working.
    """
    locked = MerchantAPIKey.objects.select_for_update().get(pk=key.pk)
    now = timezone.now()
    if not locked.is_usable(now):
        raise APIKeyError("This key is already revoked; create a new key instead.")
    if locked.replaced_by_id is not None:
        raise APIKeyError("This key was already rolled.")
    if grace < timedelta(0) or grace > timedelta(days=7):
        raise APIKeyError("The grace period is between 0 and 7 days.")
    new = merchant_api_key_create(merchant=locked.merchant, name=locked.name, mode=locked.mode, actor=actor)
    locked.revoked_at = now + grace
    locked.replaced_by = new.key
    locked.save(update_fields=["revoked_at", "replaced_by"])
    audit_record(
        action="api_key.rolled",
        actor=actor,
        request=request,
        obj=locked,
        extra={"grace_seconds": int(grace.total_seconds()), "new_key": str(new.key.pk)},
    )
    return new


class KeyRejected(Exception):
    """The bearer token is not a usable key. ``code`` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def merchant_api_key_authenticate(*, token: str) -> MerchantAPIKey:
    """The usable key behind ``token`` (with its merchant), or :class:`KeyRejected`."""
    token = token.strip()
    if not KEY_PATTERN.fullmatch(token):
        raise KeyRejected(
            "invalid_api_key", "The API key is not a FlexLMN secret key (flx_test_sk_… or flx_live_sk_…)."
        )
    key = MerchantAPIKey.objects.select_related("merchant").filter(secret_hash=key_hash(token)).first()
    # The hash lookup is by a unique index on a hash of a random secret: its timing tells an attacker nothing.
    if key is None:
        raise KeyRejected("invalid_api_key", "No such API key.")
    now = timezone.now()
    if not key.is_usable(now):
        raise KeyRejected("api_key_revoked", "This API key was revoked; use the key that replaced it.")
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION:
        MerchantAPIKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
