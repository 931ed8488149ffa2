"""Flex Shop pages: catalog, product, cart and the merchant application."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.db import IntegrityError
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flexlmn.ratelimit import client_rate_limit_hit

from .forms import CartAddForm, CartQuantityForm, CartRemoveForm, MerchantApplicationForm
from .models import CartItem, Category, Merchant, Product
from .selectors import cart_summary, catalog_listing, product_for_page, products_related
from .services import (
    MAX_QUANTITY,
    CartError,
    cart_add,
    cart_for_request,
    cart_remove,
    cart_remove_products,
    cart_set_quantity,
    merchant_apply,
)

SELL_RATE_LIMIT = 5
SELL_RATE_WINDOW_SECONDS = 60 * 60


@require_GET
def shop(request: HttpRequest) -> HttpResponse:
    listing = catalog_listing(request.GET)
    show_storefront = not listing.query.is_filtered and listing.page.number == 1
    return render(request, "marketplace/shop.html", {"listing": listing, "show_storefront": show_storefront})


@require_GET
def category(request: HttpRequest, category: str) -> HttpResponse:
    found = get_object_or_404(Category, slug=category)
    listing = catalog_listing(request.GET, category=found)
    return render(request, "marketplace/category.html", {"listing": listing, "category": found})


@require_GET
def merchant(request: HttpRequest, merchant: str) -> HttpResponse:
    found = get_object_or_404(Merchant.objects.active(), slug=merchant)
    listing = catalog_listing(request.GET, merchant=found)
    return render(request, "marketplace/merchant.html", {"listing": listing, "merchant": found})


@require_GET
def product(request: HttpRequest, product: str) -> HttpResponse:
    found = product_for_page(product)
    if found is None:
        raise Http404("No such product")
    return render(
        request,
        "marketplace/product.html",
        {
            "product": found,
            "related": products_related(found),
            "form": CartAddForm(initial={"product": found.pk, "quantity": 1}),
        },
    )


def _image_response(image: FieldFile) -> FileResponse:
    if not image:
        raise Http404("No image")
    # Checked before the file is opened, so a refused file is never left open.
    content_type = mimetypes.guess_type(image.name or "")[0] or "application/octet-stream"
    if not content_type.startswith("image/"):
        raise Http404("No image")
    try:
        handle = image.open("rb")
    except FileNotFoundError as exc:
        raise Http404("No image") from exc
    return FileResponse(handle, content_type=content_type)


# MEDIA_ROOT is never served as a whole (letter PDFs live there), so shop images go through these views.
@require_GET
@cache_control(public=True, max_age=3600)
def product_image(request: HttpRequest, product: str) -> FileResponse:
    found = get_object_or_404(Product.objects.sellable(), slug=product)
    return _image_response(found.image)


@require_GET
@cache_control(public=True, max_age=3600)
def merchant_logo(request: HttpRequest, merchant: str) -> FileResponse:
    found = get_object_or_404(Merchant.objects.active(), slug=merchant)
    return _image_response(found.logo)


@never_cache
@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    summary = cart_summary(cart_for_request(request))
    return render(request, "marketplace/cart.html", {"summary": summary})


def _to_cart() -> HttpResponseRedirect:
    return redirect("marketplace:cart")


@require_POST
def cart_add_view(request: HttpRequest) -> HttpResponse:
    form = CartAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a quantity from 1 to 99.")
        product_id = form.cleaned_data.get("product")
        found = Product.objects.sellable().filter(pk=product_id).first() if product_id else None
        return redirect(found.get_absolute_url()) if found else redirect("marketplace:shop")
    found = Product.objects.sellable().select_related("merchant").filter(pk=form.cleaned_data["product"]).first()
    if found is None:
        messages.error(request, "Sorry, that product is not available right now.")
        return redirect("marketplace:shop")
    current = cart_for_request(request, create=True)
    if current is None:
        raise Http404("No cart")
    wanted = form.cleaned_data["quantity"]
    before = CartItem.objects.filter(cart=current, product=found).values_list("quantity", flat=True).first() or 0
    try:
        item = cart_add(cart=current, product=found, quantity=wanted)
    except CartError as exc:
        messages.error(request, str(exc))
        return redirect(found.get_absolute_url())
    added = item.quantity - before
    # A line is capped at MAX_QUANTITY: say what was really added.
    if added <= 0:
        messages.info(request, f"Your cart already holds {item.quantity} of {found.name}, the most it can.")
    elif added < wanted:
        messages.warning(request, f"Added {added} of {found.name}: a cart holds at most {MAX_QUANTITY} of one product.")
    else:
        messages.success(request, f"Added {found.name} to your cart.")
    return _to_cart()


@require_POST
def cart_update_view(request: HttpRequest) -> HttpResponse:
    form = CartQuantityForm(request.POST)
    current = cart_for_request(request)
    if not form.is_valid():
        messages.error(request, "Choose a quantity from 1 to 99.")
        return _to_cart()
    if current is not None:
        try:
            cart_set_quantity(
                cart=current, product_id=form.cleaned_data["product"], quantity=form.cleaned_data["quantity"]
            )
        except CartError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Your cart is updated.")
    return _to_cart()


@require_POST
def cart_remove_view(request: HttpRequest) -> HttpResponse:
    form = CartRemoveForm(request.POST)
    current = cart_for_request(request)
    if form.is_valid() and current is not None:
        cart_remove(cart=current, product_id=form.cleaned_data["product"])
        messages.success(request, "The item was removed from your cart.")
    return _to_cart()


@require_POST
def cart_remove_not_eligible_view(request: HttpRequest) -> HttpResponse:
    current = cart_for_request(request)
    if current is not None:
        summary = cart_summary(current)
        removed = cart_remove_products(
            cart=current, product_ids=[line.product_id for line in summary.not_eligible_lines]
        )
        if removed:
            messages.success(
                request,
                f"Removed {removed} item{'s' if removed != 1 else ''} that HSA/FSA funds can't pay for.",
            )
    return _to_cart()


@require_http_methods(["GET", "POST"])
def sell(request: HttpRequest) -> HttpResponse:
    form = MerchantApplicationForm(request.POST or None)
    if request.method == "POST":
        # At most SELL_RATE_LIMIT applications an hour from one address.
        hit = client_rate_limit_hit(request, scope="sell", limit=SELL_RATE_LIMIT, window=SELL_RATE_WINDOW_SECONDS)
        if not hit.allowed:
            response = render(request, "marketplace/sell.html", {"form": form, "rate_limited": True}, status=429)
            response["Retry-After"] = str(hit.retry_after)
            return response
        if form.is_bot:
            # Say nothing a bot could learn from; nothing is created.
            return redirect("marketplace:sell_thanks")
        if form.is_valid() and form.resubmitted is not None:
            # The same application sent again: it is already with ops.
            return HttpResponseRedirect(reverse("marketplace:sell_thanks"))
        if form.is_valid():
            data = form.cleaned_data
            try:
                merchant_apply(
                    name=data["name"],
                    website=data["website"],
                    contact_name=data["contact_name"],
                    contact_email=data["contact_email"],
                    application_note=data["application_note"],
                    request=request,
                )
            except IntegrityError:
                # Another application with this name was saved a moment ago: this one, sent twice at once?
                if form.same_application(data["name"]) is not None:
                    return HttpResponseRedirect(reverse("marketplace:sell_thanks"))
                form.add_error("name", "A merchant with this name has already applied or sells on Flex Shop.")
            else:
                return HttpResponseRedirect(reverse("marketplace:sell_thanks"))
    return render(request, "marketplace/sell.html", {"form": form})


@require_GET
def sell_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "marketplace/sell_thanks.html")
