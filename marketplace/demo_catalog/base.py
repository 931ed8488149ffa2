"""The demo catalog's shapes and its categories: what every group of demo merchants is built from."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Eligibility, MerchantStatus
from ..validators import gtin_check_digit

AUTO = Eligibility.AUTO_SUBSTANTIATION
LMN = Eligibility.LMN_REQUIRED
NOT = Eligibility.NOT_ELIGIBLE

# (slug, name, description), in the order the shop lists them.
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    (
        "fitness-exercise",
        "Fitness & exercise",
        "Home gym equipment, training apps and studio memberships that may support a treatment plan.",
    ),
    (
        "nutrition-supplements",
        "Nutrition & supplements",
        "Over-the-counter essentials, supplements and nutrition programs.",
    ),
    (
        "sleep-home-wellness",
        "Sleep & home wellness",
        "Sleep systems, wearables and devices for rest, stress and breathing.",
    ),
    (
        "clothing-footwear",
        "Clothing & footwear",
        "Posture wear, supportive footwear, insoles and protective headwear.",
    ),
    (
        "mom-baby-child",
        "Mom, baby & child",
        "Lactation and postpartum supplies, gentle baby care and smart nursery gear.",
    ),
    (
        "skin-sun-care",
        "Skin & sun care",
        "Broad-spectrum sunscreens SPF 30 and up, and skin treatments.",
    ),
    (
        "recovery-pain-relief",
        "Recovery & pain relief",
        "Percussive therapy, compression, first aid and pain relief.",
    ),
)


@dataclass(frozen=True)
class DemoProduct:
    name: str
    category: str
    price_cents: int
    eligibility: str
    description: str
    # Sequence number for a GTIN-13 in the restricted range; 0 for services and memberships.
    gtin_seq: int = 0


@dataclass(frozen=True)
class DemoMerchant:
    name: str
    description: str
    products: tuple[DemoProduct, ...]
    featured: bool = False
    status: str = MerchantStatus.ACTIVE


def demo_gtin(seq: int) -> str:
    """A GTIN-13 beginning 20 (GS1 restricted circulation) with a valid check digit."""
    body = f"20{seq:010d}"
    return body + str(gtin_check_digit(body))


P = DemoProduct
