"""Test personas shared by every app (STYLE.md): shopper, other_shopper,
clinician, unlicensed_clinician, ops. Clinician and ops come with TOTP set up;
``enable_totp`` returns the secret so a test can compute codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import Role, User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory


def enable_totp(user: User) -> str:
    """Give ``user`` an authenticator app; return its base32 secret."""
    secret = pyotp.random_base32()
    TOTP.activate(user, secret)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return secret


@pytest.fixture(autouse=True)
def _private_media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # allauth's rate limits live in the cache: every test starts with none used.
    cache.clear()


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    """Stop the clock at now for the test: its requests all fall in one rate-limit window.

    The limits count in fixed windows (flexlmn.ratelimit), so a test that counts up to a limit
    across the top of a minute or hour would see its count start again and fail now and then.
    """
    with freeze_time(timezone.now()):
        yield


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def shopper(db: None) -> User:
    return UserFactory(email="sam.shopper@example.test", first_name="Sam", last_name="Shopper")


@pytest.fixture
def other_shopper(db: None) -> User:
    return UserFactory(email="olive.other@example.test", first_name="Olive", last_name="Other")


@pytest.fixture
def clinician(db: None) -> User:
    user = UserFactory(
        email="dr.casey.clinic@example.test", role=Role.CLINICIAN, first_name="Casey", last_name="Clinic"
    )
    user.totp_secret = enable_totp(user)  # type: ignore[attr-defined]
    return user


@pytest.fixture
def unlicensed_clinician(db: None) -> User:
    user = UserFactory(
        email="dr.uma.unlicensed@example.test", role=Role.CLINICIAN, first_name="Uma", last_name="Elsewhere"
    )
    user.totp_secret = enable_totp(user)  # type: ignore[attr-defined]
    return user


@pytest.fixture
def clinician_without_mfa(db: None) -> User:
    return UserFactory(email="dr.nia.nomfa@example.test", role=Role.CLINICIAN)


@pytest.fixture
def ops(db: None) -> User:
    user = UserFactory(
        email="otto.ops@example.test", role=Role.OPS, is_superuser=True, first_name="Otto", last_name="Ops"
    )
    user.totp_secret = enable_totp(user)  # type: ignore[attr-defined]
    return user


@pytest.fixture
def ops_without_mfa(db: None) -> User:
    return UserFactory(email="opal.nomfa@example.test", role=Role.OPS, is_superuser=True)
