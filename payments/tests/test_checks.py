"""The system check: no test provider in production unless explicitly allowed; Stripe needs its keys."""

from __future__ import annotations

from typing import Any

import pytest

from payments.checks import check_payment_provider


def _ids(settings: Any, **values: Any) -> list[str]:
    for name, value in values.items():
        setattr(settings, name, value)
    return [message.id for message in check_payment_provider()]


def test_the_test_provider_is_refused_with_debug_off(settings: Any) -> None:
    assert _ids(settings, DEBUG=False, PAYMENT_PROVIDER="test", PAYMENTS_ALLOW_TEST_PROVIDER=False) == ["payments.E002"]


@pytest.mark.parametrize(("debug", "allowed"), [(True, False), (False, True)])
def test_the_test_provider_is_fine_in_development_or_when_allowed(settings: Any, debug: bool, allowed: bool) -> None:
    assert _ids(settings, DEBUG=debug, PAYMENT_PROVIDER="test", PAYMENTS_ALLOW_TEST_PROVIDER=allowed) == []


def test_stripe_needs_well_formed_keys(settings: Any) -> None:
    assert _ids(
        settings,
        DEBUG=False,
        PAYMENT_PROVIDER="stripe",
        STRIPE_SECRET_KEY="",
        STRIPE_PUBLISHABLE_KEY="sk_oops",
        STRIPE_WEBHOOK_SECRET="whsec_x",
    ) == ["payments.E003", "payments.E003"]
    assert (
        _ids(
            settings,
            STRIPE_SECRET_KEY="sk_test_x",
            STRIPE_PUBLISHABLE_KEY="pk_test_x",
            STRIPE_WEBHOOK_SECRET="whsec_x",
        )
        == []
    )


def test_an_unknown_provider_is_refused(settings: Any) -> None:
    assert "payments.E001" in _ids(settings, PAYMENT_PROVIDER="paypal")


def test_manage_py_refuses_the_test_provider_under_production_settings() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "PAYMENT", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"))
    }
    env.update(DEBUG="0", SECRET_KEY="s" * 60, ALLOWED_HOSTS="flexlmn.example", PAYMENT_PROVIDER="test")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "payments.E002" in result.stderr
    allowed = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env={**env, "PAYMENTS_ALLOW_TEST_PROVIDER": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert allowed.returncode == 0, allowed.stderr
