"""Password reset is rate limited like login and signup (allauth's ``reset_password`` limit, shared cache)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_sixth_reset_request_for_one_address_within_a_minute_is_refused(client: Client, shopper: User) -> None:
    statuses = [client.post(reverse("account_reset_password"), {"email": shopper.email}).status_code for _ in range(6)]
    assert statuses[:5] == [302] * 5
    assert statuses[5] == 429
    assert len([m for m in mail.outbox if shopper.email in m.to]) == 5


def test_reset_requests_from_one_address_for_many_accounts_are_limited_per_ip(client: Client) -> None:
    statuses = [
        client.post(reverse("account_reset_password"), {"email": f"nobody{n}@example.test"}).status_code
        for n in range(22)
    ]
    assert statuses[:20] == [302] * 20
    assert 429 in statuses[20:]
