"""django-q2 tasks: take ids, re-read the row, exit when the work is already done."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .emails import send_merchant_application
from .models import Merchant


def merchant_application_notify(merchant_id: str) -> bool:
    """Email ops about a new merchant application once; a rerun sends nothing."""
    with transaction.atomic():
        merchant = Merchant.objects.select_for_update().filter(pk=merchant_id).first()
        if merchant is None or merchant.ops_notified_at is not None:
            return False
        send_merchant_application(merchant)
        merchant.ops_notified_at = timezone.now()
        merchant.save(update_fields=["ops_notified_at"])
    return True
