from __future__ import annotations

import pytest
from django.core import mail

from marketplace.models import MerchantStatus
from marketplace.tasks import merchant_application_notify
from marketplace.tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def test_the_task_emails_ops_once_and_a_rerun_sends_nothing() -> None:
    merchant = MerchantFactory(status=MerchantStatus.APPLIED, name="Quietfield")

    assert merchant_application_notify(str(merchant.pk)) is True
    assert merchant_application_notify(str(merchant.pk)) is False

    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Quietfield applied to sell on Flex Shop" in body
    assert "What comes next" in body


def test_the_task_ignores_a_merchant_that_no_longer_exists() -> None:
    assert merchant_application_notify("00000000-0000-0000-0000-000000000000") is False
    assert mail.outbox == []
