"""Template helpers for the Flex Shop: money and eligibility badges with compliant wording."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from django import template
from django.template import Context
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from marketplace.models import Eligibility

register = template.Library()

# Compliant wording: a letter-dependent product "may be" eligible, never "is eligible".
BADGES: dict[str, dict[str, str]] = {
    Eligibility.AUTO_SUBSTANTIATION: {
        "css": "elig-auto",
        "icon": "marketplace/icons/check.svg",
        "short": "HSA/FSA-eligible",
        "long": "HSA/FSA-eligible item (auto-substantiated)",
    },
    Eligibility.LMN_REQUIRED: {
        "css": "elig-lmn",
        "icon": "marketplace/icons/clipboard.svg",
        "short": "May be HSA/FSA-eligible",
        "long": "May be HSA/FSA-eligible for qualified customers",
    },
    Eligibility.NOT_ELIGIBLE: {
        "css": "elig-none",
        "icon": "marketplace/icons/x.svg",
        "short": "Not HSA/FSA-eligible",
        "long": "Not payable with HSA/FSA funds",
    },
}


@register.filter
def usd(cents: Any) -> str:
    """Integer cents → ``$1,299.00``."""
    try:
        value = int(cents)
    except (TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value) / 100:,.2f}"


def _badge_html(eligibility: str, size: str, icon_url: Callable[[str], str]) -> SafeString:
    badge = BADGES.get(eligibility, BADGES[Eligibility.NOT_ELIGIBLE])
    return format_html(
        '<span class="elig-badge {}{}"><img src="{}" alt="" width="16" height="16">{}</span>',
        badge["css"],
        " elig-badge-lg" if size == "long" else "",
        icon_url(badge["icon"]),
        badge["long"] if size == "long" else badge["short"],
    )


@register.simple_tag
def eligibility_badge(eligibility: str, size: str = "short") -> str:
    """The badge with its icon; ``size="long"`` for the product page's wording."""
    return _badge_html(eligibility, size, static)


def _memo(context: Context, key: str, compute: Callable[[], str]) -> str:
    """Compute ``key`` once per template render (URL prefixes and static paths repeat on every card)."""
    cache = context.render_context.get("marketplace_memo")
    if cache is None:
        cache = {}
        context.render_context["marketplace_memo"] = cache
    if key not in cache:
        cache[key] = compute()
    return str(cache[key])


def _slug_url(context: Context, name: str, slug: str) -> str:
    # Slugs are [-a-zA-Z0-9_]: a placeholder in one reversed URL stands for them all.
    pattern = _memo(context, f"url:{name}", lambda: reverse(name, args=["__slug__"]))
    return pattern.replace("__slug__", slug)


@register.simple_tag(takes_context=True)
def product_card(context: Context, product: Any) -> SafeString:
    """One catalog card: picture, merchant, name, price and eligibility badge.

    Rendered in Python rather than an included template because a listing
    shows 24 of them and the catalog's budget is 30 ms per page.
    """

    def static_url(path: str) -> str:
        return _memo(context, f"static:{path}", lambda: static(path))

    url = _slug_url(context, "marketplace:product", product.slug)
    if product.image:
        picture = format_html(
            '<img src="{}" alt="" class="thumb-photo" loading="lazy">',
            _slug_url(context, "marketplace:product_image", product.slug),
        )
    else:
        picture = format_html(
            '<img src="{}" alt="" class="thumb-icon" width="56" height="56">',
            static_url(category_icon(product.category)),
        )
    note = (
        mark_safe('<div class="badge-note">with a clinician’s letter</div>')  # nosec B308 B703 - a constant
        if product.eligibility == Eligibility.LMN_REQUIRED
        else ""
    )
    return format_html(
        '<article class="card product-card h-100">'
        '<a href="{url}" class="product-thumb {tone}" tabindex="-1" aria-hidden="true">{picture}</a>'
        '<div class="card-body d-flex flex-column gap-1">'
        '<a class="merchant-link small text-truncate" href="{merchant_url}">{merchant}</a>'
        '<h3 class="h6 card-title mb-1"><a class="product-link" href="{url}">{name}</a></h3>'
        '<div class="mt-auto pt-1"><div class="price mb-2">{price}</div>{badge}{note}</div>'
        "</div></article>",
        url=url,
        tone=category_tone(product.category),
        picture=picture,
        merchant_url=_slug_url(context, "marketplace:merchant", product.merchant.slug),
        merchant=product.merchant.name,
        name=product.name,
        price=usd(product.price_cents),
        badge=_badge_html(product.eligibility, "short", static_url),
        note=note,
    )


@register.simple_tag
def merchant_options(merchants: Iterable[Any], selected: str) -> str:
    """The brand filter's ``<option>`` list in one pass: a catalog may have hundreds of brands.

    The standard library's ``html.escape`` (quotes included) is used directly;
    Django's lazy-aware ``format_html`` costs ten times more per option.
    """
    options = [
        f'<option value="{escape(m.slug)}"{" selected" if m.slug == selected else ""}>{escape(m.name)}</option>'
        for m in merchants
    ]
    return mark_safe("".join(options))  # noqa: S308  # nosec B308 B703 - every value above is escaped (html.escape)


@register.filter
def initials(name: str) -> str:
    words = [w for w in str(name).replace("+", " ").replace("/", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


# The demo categories' icons and tints; any other category gets a neutral bag.
CATEGORY_VISUALS: dict[str, tuple[str, int]] = {
    "fitness-exercise": ("fitness", 1),
    "nutrition-supplements": ("nutrition", 2),
    "sleep-home-wellness": ("sleep", 3),
    "clothing-footwear": ("clothing", 4),
    "mom-baby-child": ("baby", 5),
    "skin-sun-care": ("sun", 6),
    "recovery-pain-relief": ("recovery", 7),
}


@register.simple_tag
def category_icon(category: Any) -> str:
    icon, _ = CATEGORY_VISUALS.get(getattr(category, "slug", ""), ("bag", 0))
    return f"marketplace/icons/{icon}.svg"


@register.filter
def category_tone(category: Any) -> str:
    _, tone = CATEGORY_VISUALS.get(getattr(category, "slug", ""), ("bag", 0))
    return f"tone-{tone}"


@register.simple_tag
def category_icon_url(category: Any) -> str:
    return static(category_icon(category))
