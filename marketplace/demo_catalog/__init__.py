"""The Flex Shop demo catalog: categories, merchants and products (data only).

Merchants are the brands the product article names; every product name,
description and price here is made up for this project. GTINs come from the
GS1 restricted-circulation range (prefix 20), so none belongs to a real item,
and each carries a valid check digit.
"""

from __future__ import annotations

from ..models import MerchantStatus
from . import activity, care, home
from .base import CATEGORIES, DemoMerchant, DemoProduct, demo_gtin

__all__ = ["APPLICANT", "CATEGORIES", "MERCHANTS", "DemoMerchant", "DemoProduct", "demo_gtin"]

# In the order the shop's categories run.
MERCHANTS: tuple[DemoMerchant, ...] = activity.MERCHANTS + home.MERCHANTS + care.MERCHANTS

# A made-up applicant, so ops can try the review in the admin.
APPLICANT = DemoMerchant(
    "Northwind Balance Boards",
    "Wooden balance boards for ankle rehabilitation and stability training.",
    (),
    status=MerchantStatus.APPLIED,
)
