from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from accounts.models import AuditEvent, User
from flexlmn.state_machine import IllegalTransition
from marketplace.models import Merchant, MerchantStatus, Product
from marketplace.services import (
    MerchantStatusError,
    merchant_activate,
    merchant_apply,
    merchant_save,
    merchant_suspend,
)
from marketplace.tests.conftest import Catalog
from marketplace.tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def test_apply_creates_an_applied_merchant_with_a_unique_slug_and_queues_the_ops_email(
    django_capture_on_commit_callbacks: Any,
) -> None:
    MerchantFactory(name="Other", slug="brightwell")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        merchant = merchant_apply(name="  Brightwell ", contact_email="a@brightwell.example")

    assert (merchant.name, merchant.slug, merchant.status) == ("Brightwell", "brightwell-2", MerchantStatus.APPLIED)
    assert callbacks and mail.outbox == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


def test_the_legal_transitions(ops: User) -> None:
    merchant = MerchantFactory(status=MerchantStatus.APPLIED)

    merchant_activate(merchant=merchant, actor=ops)
    assert merchant.status == MerchantStatus.ACTIVE
    merchant_suspend(merchant=merchant, actor=ops)
    assert Merchant.objects.get(pk=merchant.pk).status == MerchantStatus.SUSPENDED
    merchant_activate(merchant=merchant, actor=ops)
    assert Merchant.objects.get(pk=merchant.pk).status == MerchantStatus.ACTIVE

    actions = list(AuditEvent.objects.filter(object_id=str(merchant.pk)).order_by("id").values_list("action", "extra"))
    assert actions == [
        ("merchant.activated", {"from": "applied", "to": "active"}),
        ("merchant.suspended", {"from": "active", "to": "suspended"}),
        ("merchant.activated", {"from": "suspended", "to": "active"}),
    ]


@pytest.mark.parametrize(
    ("start", "move"),
    [
        (MerchantStatus.APPLIED, merchant_suspend),
        (MerchantStatus.ACTIVE, merchant_activate),
        (MerchantStatus.SUSPENDED, merchant_suspend),
    ],
)
def test_illegal_transitions_raise_and_change_nothing(start: str, move: Any) -> None:
    merchant = MerchantFactory(status=start)
    with pytest.raises(MerchantStatusError):
        move(merchant=merchant)
    assert Merchant.objects.get(pk=merchant.pk).status == start
    assert not AuditEvent.objects.filter(object_id=str(merchant.pk)).exists()


def test_merchant_status_uses_the_shared_state_machine() -> None:
    # One transition check for every stateful model: the merchant's error is the shared IllegalTransition.
    merchant = Merchant(status=MerchantStatus.APPLIED)
    assert merchant.can_transition_to(MerchantStatus.ACTIVE)
    assert not merchant.can_transition_to(MerchantStatus.SUSPENDED)
    with pytest.raises(IllegalTransition):
        merchant.assert_can_transition_to(MerchantStatus.SUSPENDED)
    assert issubclass(MerchantStatusError, IllegalTransition)


def test_the_transition_reads_the_locked_row_not_a_stale_instance() -> None:
    merchant = MerchantFactory(status=MerchantStatus.ACTIVE)
    stale = Merchant.objects.get(pk=merchant.pk)
    merchant_suspend(merchant=merchant)

    with pytest.raises(MerchantStatusError):
        merchant_suspend(merchant=stale)  # stale still says "active"


def test_merchant_save_refuses_a_status_change(catalog: Catalog) -> None:
    catalog.restwell.status = MerchantStatus.SUSPENDED
    with pytest.raises(MerchantStatusError):
        merchant_save(merchant=catalog.restwell)


def test_merchant_save_refreshes_search_when_the_name_changes(catalog: Catalog) -> None:
    catalog.restwell.name = "Nightfall Sleep Co"
    merchant_save(merchant=catalog.restwell)

    assert set(Product.objects.filter(search_vector="nightfall").values_list("name", flat=True)) == {
        "Cooling Sleep Pad",
        "Lavender Candle",
        "Sleep Tracking Ring",
    }
    assert not Product.objects.filter(search_vector="restwell").exists()
