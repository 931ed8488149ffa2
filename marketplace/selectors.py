"""Reads for the marketplace: the cart and its HSA/FSA summary."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import Cart, CartItem, Category, Eligibility


@dataclass(frozen=True)
class CartSummary:
    """What a cart holds and what HSA/FSA can pay for.

    ``letter_groups`` maps each category that needs a Letter of Medical
    Necessity to its lines; ``not_eligible_lines`` are lines HSA/FSA cannot pay
    for. Lines whose product is no longer sellable are listed in
    ``unavailable_lines`` and excluded from totals.
    """

    lines: list[CartItem]
    unavailable_lines: list[CartItem] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total_cents(self) -> int:
        return sum(line.line_total_cents for line in self.lines)

    @property
    def auto_lines(self) -> list[CartItem]:
        return [line for line in self.lines if line.product.eligibility == Eligibility.AUTO_SUBSTANTIATION]

    @property
    def letter_lines(self) -> list[CartItem]:
        return [line for line in self.lines if line.product.eligibility == Eligibility.LMN_REQUIRED]

    @property
    def not_eligible_lines(self) -> list[CartItem]:
        return [line for line in self.lines if line.product.eligibility == Eligibility.NOT_ELIGIBLE]

    @property
    def letter_groups(self) -> dict[Category, list[CartItem]]:
        groups: dict[Category, list[CartItem]] = {}
        for line in self.letter_lines:
            groups.setdefault(line.product.category, []).append(line)
        return groups

    @property
    def letter_categories(self) -> list[Category]:
        return list(self.letter_groups)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def hsa_status(self) -> str:
        """``empty`` | ``has_ineligible`` | ``needs_letter`` | ``all_eligible``."""
        if not self.lines:
            return "empty"
        if self.not_eligible_lines:
            return "has_ineligible"
        if self.letter_lines:
            return "needs_letter"
        return "all_eligible"


def cart_items(cart: Cart | None) -> list[CartItem]:
    if cart is None:
        return []
    return list(
        CartItem.objects.filter(cart=cart)
        .select_related("product", "product__merchant", "product__category")
        .order_by("added_at", "id")
    )


def cart_summary(cart: Cart | None) -> CartSummary:
    items = cart_items(cart)
    return CartSummary(
        lines=[item for item in items if item.product.is_sellable],
        unavailable_lines=[item for item in items if not item.product.is_sellable],
    )
