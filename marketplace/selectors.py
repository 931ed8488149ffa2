"""Reads for the marketplace: the catalog (search, filters, sorting) and the cart with its HSA/FSA summary."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import Case, F, FloatField, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.urls import reverse

from .models import MAX_PRICE_CENTS, SEARCH_CONFIG, Cart, CartItem, Category, Eligibility, Merchant, Product

logger = logging.getLogger(__name__)


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


# ---------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------

PER_PAGE = 24
# What a product card shows (and Product.is_sellable needs): loading only these columns keeps
# a listing page's model building cheap. A template reaching for another field would cost a
# query per card, which the query-count tests catch.
CARD_FIELDS = (
    "id",
    "slug",
    "name",
    "price_cents",
    "eligibility",
    "image",
    "active",
    "merchant_id",
    "category_id",
    "merchant__id",
    "merchant__name",
    "merchant__slug",
    "merchant__status",
    "category__id",
    "category__name",
    "category__slug",
)
MAX_QUERY_LENGTH = 200
SORTS: dict[str, str] = {
    "relevance": "Best match",
    "name": "Name (A–Z)",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "newest": "Newest",
}
ELIGIBILITY_FILTERS: dict[str, str] = {
    Eligibility.AUTO_SUBSTANTIATION: "HSA/FSA-eligible, no letter needed",
    Eligibility.LMN_REQUIRED: "May be eligible with a clinician’s letter",
    Eligibility.NOT_ELIGIBLE: "Not HSA/FSA-eligible",
}
_PRICE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?", re.ASCII)
_PAGE = re.compile(r"[0-9]{1,9}", re.ASCII)
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,140}", re.ASCII)
# Letters and digits only: everything else (tsquery operators, quotes, NUL) is a separator.
_SEARCH_TOKEN = re.compile(r"[^\W_]+")


def _clean_text(value: object, *, max_length: int) -> str:
    text = str(value or "").replace("\x00", "")
    return " ".join(text.split())[:max_length]


def _clean_slug(value: object) -> str:
    text = str(value or "").strip()
    return text if _SLUG.fullmatch(text) else ""


def _clean_price(value: object) -> int | None:
    """Dollars (``"129"``, ``"129.50"``, ``"$1,299"``) → cents; anything odd is ignored."""
    text = str(value or "").strip().replace("$", "", 1).replace(",", "")
    if not _PRICE.fullmatch(text):
        return None
    return min(int(Decimal(text) * 100), MAX_PRICE_CENTS)


@dataclass(frozen=True)
class CatalogQuery:
    """The shopper's search, filters, sort and page, cleaned: malformed values become empty."""

    q: str = ""
    category: str = ""
    merchant: str = ""
    eligibility: str = ""
    min_cents: int | None = None
    max_cents: int | None = None
    sort: str = ""
    page: str = "1"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CatalogQuery:
        eligibility = str(params.get("eligibility") or "")
        sort = str(params.get("sort") or "")
        page = str(params.get("page") or "1")
        min_cents = _clean_price(params.get("min_price"))
        max_cents = _clean_price(params.get("max_price"))
        if min_cents is not None and max_cents is not None and min_cents > max_cents:
            min_cents, max_cents = max_cents, min_cents
        return cls(
            q=_clean_text(params.get("q"), max_length=MAX_QUERY_LENGTH),
            category=_clean_slug(params.get("category")),
            merchant=_clean_slug(params.get("merchant")),
            eligibility=eligibility if eligibility in ELIGIBILITY_FILTERS else "",
            min_cents=min_cents,
            max_cents=max_cents,
            sort=sort if sort in SORTS else "",
            page=page if _PAGE.fullmatch(page) else "1",
        )

    @property
    def effective_sort(self) -> str:
        if self.sort == "relevance" and not self.q:
            return "name"
        return self.sort or ("relevance" if self.q else "name")

    @property
    def min_price(self) -> str:
        return "" if self.min_cents is None else f"{self.min_cents / 100:.2f}".removesuffix(".00")

    @property
    def max_price(self) -> str:
        return "" if self.max_cents is None else f"{self.max_cents / 100:.2f}".removesuffix(".00")

    def params(self, *, without: str = "") -> dict[str, str]:
        """The cleaned query as URL parameters (page dropped), optionally without one of them."""
        values = {
            "q": self.q,
            "category": self.category,
            "merchant": self.merchant,
            "eligibility": self.eligibility,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "sort": self.sort,
        }
        return {key: value for key, value in values.items() if value and key != without}

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.q
            or self.category
            or self.merchant
            or self.eligibility
            or self.min_cents is not None
            or self.max_cents is not None
        )


def search_query(text: str) -> SearchQuery | None:
    """A prefix-matching tsquery (``therab`` finds Therabody) built from letters and digits only."""
    tokens = [t for t in _SEARCH_TOKEN.findall(text.lower()) if len(t) > 1 or t.isdigit()][:8]
    if not tokens:
        return None
    raw = " & ".join(f"{token[:40]}:*" for token in tokens)
    return SearchQuery(raw, search_type="raw", config=SEARCH_CONFIG)


def _text_search(products: QuerySet[Product], text: str) -> QuerySet[Product]:
    if connection.vendor == "postgresql":
        query = search_query(text)
        if query is None:
            # Nothing searchable (only punctuation or single letters): no results, same shape.
            return products.none().annotate(rank=Value(0.0, output_field=FloatField()))
        return products.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
    # SQLite (``make run``): every word must appear in one of the fields; name hits rank first.
    words = text.split()[:8]
    for word in words:
        products = products.filter(
            Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(merchant__name__icontains=word)
            | Q(category__name__icontains=word)
        )
    first = words[0] if words else text
    return products.annotate(
        rank=Case(
            When(name__icontains=first, then=Value(3)),
            When(Q(merchant__name__icontains=first) | Q(category__name__icontains=first), then=Value(2)),
            default=Value(1),
            output_field=IntegerField(),
        )
    )


def catalog_products(
    query: CatalogQuery, *, category: Category | None = None, merchant: Merchant | None = None
) -> QuerySet[Product]:
    """Sellable products matching the query, sorted; ``category``/``merchant`` pin a page's scope."""
    products: QuerySet[Product] = Product.objects.sellable().select_related("merchant", "category").only(*CARD_FIELDS)
    if category is not None:
        products = products.filter(category=category)
    elif query.category:
        products = products.filter(category__slug=query.category)
    if merchant is not None:
        products = products.filter(merchant=merchant)
    elif query.merchant:
        products = products.filter(merchant__slug=query.merchant)
    if query.eligibility:
        products = products.filter(eligibility=query.eligibility)
    if query.min_cents is not None:
        products = products.filter(price_cents__gte=query.min_cents)
    if query.max_cents is not None:
        products = products.filter(price_cents__lte=query.max_cents)
    if query.q:
        products = _text_search(products, query.q)
    sort = query.effective_sort
    if sort == "relevance":
        return products.order_by("-rank", "name", "id")
    if sort == "price_asc":
        return products.order_by("price_cents", "name", "id")
    if sort == "price_desc":
        return products.order_by("-price_cents", "name", "id")
    if sort == "newest":
        return products.order_by("-created_at", "id")
    return products.order_by("name", "id")


@dataclass(frozen=True)
class MerchantChoice:
    """An active merchant as the listing pages need it (brand filter, featured brands): no model instance."""

    name: str
    slug: str
    featured: bool
    description: str

    def get_absolute_url(self) -> str:
        return reverse("marketplace:merchant", args=[self.slug])


@dataclass(frozen=True)
class FilterChip:
    """An active filter, with the link that removes it."""

    label: str
    param: str
    remove_url: str


@dataclass(frozen=True)
class CatalogListing:
    query: CatalogQuery
    page: Page[Product]
    categories: list[Category]
    merchants: list[MerchantChoice]
    category: Category | None = None
    merchant: Merchant | None = None
    chips: list[FilterChip] = field(default_factory=list)

    @property
    def featured_merchants(self) -> list[MerchantChoice]:
        return [merchant for merchant in self.merchants if merchant.featured][:8]

    @property
    def sorts(self) -> dict[str, str]:
        if self.query.q:
            return SORTS
        return {key: label for key, label in SORTS.items() if key != "relevance"}

    @property
    def eligibility_filters(self) -> dict[str, str]:
        return ELIGIBILITY_FILTERS

    @property
    def page_numbers(self) -> list[int | str]:
        return list(self.page.paginator.get_elided_page_range(self.page.number, on_each_side=2, on_ends=1))


# The category strip and the brand filter are the same on every listing page and change only when ops edit a
# category or a merchant (marketplace.signals forgets them then); between edits they come from the cache.
CATALOG_NAVIGATION_CACHE_KEY = "marketplace:catalog-navigation:v1"
CATALOG_NAVIGATION_TTL_SECONDS = 300


def catalog_navigation() -> tuple[list[Category], list[MerchantChoice]]:
    """The categories in shop order and every active brand (name order), cached between catalog edits."""
    cached = _cache_call(cache.get, CATALOG_NAVIGATION_CACHE_KEY)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    categories = list(Category.objects.order_by("ordering", "name"))
    # Every active brand feeds the brand filter; only the featured ones need their description.
    blurb = Case(When(featured=True, then=F("description")), default=Value(""), output_field=TextField())
    merchants = [
        MerchantChoice(*row)
        for row in Merchant.objects.active().order_by("name").values_list("name", "slug", "featured", blurb)
    ]
    _cache_call(cache.set, CATALOG_NAVIGATION_CACHE_KEY, (categories, merchants), CATALOG_NAVIGATION_TTL_SECONDS)
    return categories, merchants


def catalog_navigation_forget() -> None:
    _cache_call(cache.delete, CATALOG_NAVIGATION_CACHE_KEY)


def _cache_call(method: Callable[..., Any], *args: Any) -> Any:
    """The cache is a speed-up here: when it is unreachable the shop reads the database and edits still save.

    Inside a transaction a database cache is called in a savepoint: its failing (its table missing, say) must not
    abort the transaction that is saving a merchant, as any failed statement does on PostgreSQL.
    """
    try:
        if connection.in_atomic_block and isinstance(caches["default"], DatabaseCache):
            with transaction.atomic():
                return method(*args)
        return method(*args)
    except Exception:  # Redis, database or file cache errors alike
        logger.warning("Cache unavailable for the catalog navigation; reading the database.", exc_info=True)
        return None


def catalog_listing(
    params: Mapping[str, Any],
    *,
    category: Category | None = None,
    merchant: Merchant | None = None,
    per_page: int = PER_PAGE,
) -> CatalogListing:
    """Everything a listing page shows, in a fixed number of queries whatever the catalog's size.

    Unknown category or merchant slugs in the query string are dropped (the
    filter is ignored), as are malformed prices, sorts and pages; a page past
    the end shows the last page.
    """
    query = CatalogQuery.from_params(params)
    categories, merchants = catalog_navigation()
    if query.category and query.category not in {c.slug for c in categories}:
        query = replace(query, category="")
    if query.merchant and query.merchant not in {m.slug for m in merchants}:
        query = replace(query, merchant="")
    page = _paginate(catalog_products(query, category=category, merchant=merchant), query.page, per_page)
    return CatalogListing(
        query=query,
        page=page,
        categories=categories,
        merchants=merchants,
        category=category,
        merchant=merchant,
        chips=_chips(query, categories, merchants, category=category, merchant=merchant),
    )


def _paginate(products: QuerySet[Product], page: str, per_page: int) -> Page[Product]:
    """The requested page, with the total count fetched in the same query.

    A listing needs the page's rows and the total (for "1–24 of 9,400" and the
    page links). One statement brings both: the count is an uncorrelated
    subquery that PostgreSQL runs once. Only an empty page (no results, or a
    page past the end) costs a second query, to find the last page.
    """
    number = int(page)
    paginator: Paginator[Product] = Paginator(products, per_page)
    if number >= 1 and not products.query.is_empty():
        count_sql, count_params = products.order_by().values("pk").query.sql_with_params()
        offset = (number - 1) * per_page
        # The SQL is the ORM's own compilation of this queryset, its values still bound as parameters.
        total = RawSQL(f"SELECT COUNT(*) FROM ({count_sql}) AS matches", count_params)  # noqa: S608, S611  # nosec B608 B611 - the ORM's own SQL, values bound
        rows = list(products.annotate(catalog_total=total)[offset : offset + per_page])
        if rows:
            # Paginator.count is a cached_property: give it the number we already have.
            paginator.__dict__["count"] = rows[0].catalog_total
            return Page(rows, number, paginator)
    return paginator.get_page(number)


def _chips(
    query: CatalogQuery,
    categories: list[Category],
    merchants: list[MerchantChoice],
    *,
    category: Category | None,
    merchant: Merchant | None,
) -> list[FilterChip]:
    labels: list[tuple[str, str]] = []
    if query.q:
        labels.append((f"“{query.q}”", "q"))
    if query.category and category is None:
        labels.append((next((c.name for c in categories if c.slug == query.category), query.category), "category"))
    if query.merchant and merchant is None:
        labels.append((next((m.name for m in merchants if m.slug == query.merchant), query.merchant), "merchant"))
    if query.eligibility:
        labels.append((ELIGIBILITY_FILTERS[query.eligibility], "eligibility"))
    if query.min_cents is not None:
        labels.append((f"From ${query.min_price}", "min_price"))
    if query.max_cents is not None:
        labels.append((f"Up to ${query.max_price}", "max_price"))
    return [FilterChip(label, param, "?" + urlencode(query.params(without=param))) for label, param in labels]


def product_for_page(slug: str) -> Product | None:
    """A sellable product with its merchant and category, or None (the page answers 404)."""
    return (
        Product.objects.sellable()
        .select_related("merchant", "category")
        .defer("search_vector")
        .filter(slug=slug)
        .first()
    )


def products_related(product: Product, *, limit: int = 4) -> list[Product]:
    """More from the same merchant (one indexed query, whatever the catalog's size)."""
    return list(
        Product.objects.sellable()
        .select_related("merchant", "category")
        .only(*CARD_FIELDS)
        .filter(merchant_id=product.merchant_id)
        .exclude(pk=product.pk)
        .order_by("name", "id")[:limit]
    )
