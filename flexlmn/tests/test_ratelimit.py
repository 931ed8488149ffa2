from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from freezegun import freeze_time

from flexlmn.ratelimit import rate_limit_hit


def test_counts_per_scope_and_client_and_refuses_past_the_limit() -> None:
    with freeze_time("2026-11-27 10:00:00"):
        hits = [rate_limit_hit(scope="sell", ident="198.51.100.7", limit=2, window=3600) for _ in range(3)]
        other_client = rate_limit_hit(scope="sell", ident="198.51.100.8", limit=2, window=3600)
        other_scope = rate_limit_hit(scope="verify", ident="198.51.100.7", limit=2, window=3600)

    assert [(h.allowed, h.count) for h in hits] == [(True, 1), (True, 2), (False, 3)]
    assert hits[-1].retry_after == 3600
    assert other_client.allowed and other_scope.allowed


def test_a_new_window_starts_a_new_count() -> None:
    with freeze_time("2026-11-27 10:59:59") as clock:
        for _ in range(3):
            rate_limit_hit(scope="sell", ident="198.51.100.7", limit=2, window=3600)
        clock.move_to("2026-11-27 11:00:00")
        assert rate_limit_hit(scope="sell", ident="198.51.100.7", limit=2, window=3600).allowed


def test_the_address_is_not_kept_in_the_cache_key() -> None:
    with freeze_time("2026-11-27 10:00:00"):
        rate_limit_hit(scope="sell", ident="198.51.100.7", limit=2, window=3600)
    keys = list(cache._cache)  # type: ignore[attr-defined]  # LocMemCache in tests
    assert keys and not any("198.51.100.7" in key for key in keys)


@pytest.mark.django_db
@override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "flexlmn_ratelimit_test_cache",
        }
    }
)
def test_the_database_cache_keeps_counting_for_the_whole_window() -> None:
    # Its incr re-sets the entry with the default 300 s timeout; a count for an hour must outlive that.
    call_command("createcachetable", verbosity=0)
    with freeze_time("2026-11-27 10:00:00") as clock:
        rate_limit_hit(scope="sell", ident="198.51.100.7", limit=2, window=3600)
        rate_limit_hit(scope="sell", ident="198.51.100.7", limit=2, window=3600)
        clock.move_to("2026-11-27 10:10:00")
        third = rate_limit_hit(scope="sell", ident="198.51.100.7", limit=2, window=3600)

    assert (third.allowed, third.count) == (False, 3)
