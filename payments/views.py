"""Checkout, the pay page, orders, receipts and the Stripe webhook. Views stay thin: services do the work."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role, User
from accounts.permissions import role_required
from accounts.services import audit_record
from marketplace.selectors import cart_summary
from marketplace.services import cart_for_request, cart_remove_products

from . import selectors, services
from .api import hosted
from .forms import CardForm, ContactForm
from .models import (
    CheckoutSession,
    CheckoutSource,
    CheckoutStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentProviderName,
    PaymentStatus,
)
from .providers import ProviderError, get_provider
from .receipts import ReceiptRenderer
from .webhooks import BadSignature, stripe_event_handle, verify_stripe_event

# Stripe.js and the Payment Element's frames, allowed on the pay page only, only with the stripe provider.
# https://docs.stripe.com/security/guide#content-security-policy
STRIPE_CSP: dict[str, list[str]] = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _get_session_for_user(request: HttpRequest, session_id: UUID) -> CheckoutSession:
    """The checkout session, if it is this shopper's (a merchant's session without a customer is claimed)."""
    session = get_object_or_404(CheckoutSession.objects.select_related("merchant"), pk=session_id)
    user = _user(request)
    if session.customer_id is None:
        return services.checkout_session_claim(session=session, user=user, request=request)
    if session.customer_id != user.pk:
        raise Http404("No such checkout.")
    return session


def _get_order_for_user(request: HttpRequest, order_id: UUID) -> Order:
    order = Order.objects.filter(pk=order_id, shopper=_user(request)).select_related("checkout_session").first()
    if order is None:
        raise Http404("No such order.")
    return order


# --------------------------------------------------------------------------- checkout


@role_required(Role.SHOPPER)
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """Review the cart as an HSA/FSA purchase and start the one checkout."""
    cart = cart_for_request(request)
    if request.method == "POST":
        action = request.POST.get("action")
        if cart is not None and action == "remove_not_eligible":
            summary = cart_summary(cart)
            removed = cart_remove_products(
                cart=cart, product_ids=[line.product_id for line in summary.not_eligible_lines]
            )
            if removed:
                messages.success(request, "We removed the items HSA/FSA cannot pay for.")
            return redirect("payments:checkout")
        if cart is not None and action == "start":
            try:
                session = services.checkout_session_create_from_cart(cart=cart, user=_user(request), request=request)
            except services.CheckoutError as exc:
                messages.error(request, str(exc))
                return redirect("payments:checkout")
            return redirect("payments:pay", session.pk)
        return redirect("payments:checkout")
    from letters.selectors import covered_category_ids

    summary = cart_summary(cart)
    covered = covered_category_ids(_user(request))
    # A category one of the shopper's valid letters covers needs no questionnaire nor review: its items
    # are charged at once, so the page promises neither.
    groups = summary.letter_groups.items()
    letter_groups = [(category, lines) for category, lines in groups if category.pk not in covered]
    return render(
        request,
        "payments/checkout.html",
        {
            "summary": summary,
            "letter_groups": letter_groups,
            "covered_categories": [category for category, _lines in groups if category.pk in covered],
            "steps": checkout_steps(merchant_session=False, needs_letter=bool(letter_groups), current="review"),
        },
    )


def checkout_steps(*, merchant_session: bool, needs_letter: bool, current: str) -> list[tuple[str, str]]:
    """The checkout's steps as the shopper goes through them, each ``(label, "done" | "active" | "")``.

    A Flex Shop checkout starts on our review page; a merchant's session starts
    at the details (the shopper reviewed the cart on the merchant's site). The
    health questions (the consultation's intake) come between the details and
    the payment only when a letter is needed. ``current`` is ``review``,
    ``details``, ``intake`` or ``payment``.
    """
    names = [] if merchant_session else [("review", "Review")]
    names.append(("details", "Details"))
    if needs_letter:
        names.append(("intake", "Health questions"))
    names.append(("payment", "Pay with HSA/FSA"))
    at = [key for key, _label in names].index(current)
    return [
        (f"{number}. {label}", "done" if number - 1 < at else "active" if number - 1 == at else "")
        for number, (_key, label) in enumerate(names, start=1)
    ]


def _price_source(session: CheckoutSession, lines: list[Any]) -> str:
    """Where the summary's prices come from: ``catalog`` (Flex Shop) or, for a merchant's session,
    ``merchant_catalog`` (their synced products), ``merchant_inline`` (sent with the session) or ``merchant_mixed``."""
    if session.source != CheckoutSource.MERCHANT_API:
        return "catalog"
    inline = any(line.product_id is None for line in lines)
    synced = any(line.product_id is not None for line in lines)
    if inline and synced:
        return "merchant_mixed"
    return "merchant_inline" if inline else "merchant_catalog"


def _render_pay(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    # The merchant's cancel_url with {CHECKOUT_SESSION_ID} filled in, as success_url is ("" for the Flex Shop).
    context["cancel_url"] = hosted.cancel_url(context["session"])
    step = context.get("step")
    if step in ("details", "payment"):
        context["steps"] = checkout_steps(
            merchant_session=context["session"].source == CheckoutSource.MERCHANT_API,
            needs_letter=context["needs_letter"],
            current=step,
        )
    return render(request, "payments/pay.html", context, status=status)


def _session_summary(session: CheckoutSession) -> dict[str, Any]:
    from letters.selectors import covered_category_ids

    lines = list(session.line_items.all())
    # A category that one of the shopper's valid letters covers needs no review: that order is
    # charged at once, so the page must not promise a hold and a clinician.
    covered = covered_category_ids(session.customer) if session.customer_id else set()
    groups: dict[str, list[Any]] = {}
    for line in lines:
        if line.needs_letter and (line.category_id is None or line.category_id not in covered):
            groups.setdefault(line.category_name or "Other", []).append(line)
    return {
        "lines": lines,
        "total_cents": sum(line.line_total_cents for line in lines),
        "needs_letter": bool(groups),
        "letter_categories": list(groups),
        "price_source": _price_source(session, lines),
        "shippers": sorted({line.merchant_name for line in lines if line.merchant_name}),
    }


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry", "card_name")
@role_required(Role.SHOPPER)
@never_cache
@require_http_methods(["GET", "POST"])
@hosted.allow_merchant_return
def pay(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """The hosted pay page: contact details, then the payment, for any checkout session."""
    session = _get_session_for_user(request, session_id)
    order = Order.objects.filter(checkout_session=session).first()
    if session.status == CheckoutStatus.COMPLETE and order is not None:
        return redirect("payments:order_detail", order.pk)
    context: dict[str, Any] = {"session": session, "order": order, **_session_summary(session)}
    if not session.is_open:
        context["ended"] = True
        return _render_pay(request, context, status=410)

    editing = request.GET.get("step") == "details" or not session.has_details or order is None
    if request.method == "POST" and request.POST.get("step") == "details":
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                services.checkout_session_set_details(
                    session=session, details=form.to_details(), actor=_user(request), request=request
                )
            except services.CheckoutError as exc:
                messages.error(request, str(exc))
                return redirect("payments:pay", session.pk)
            return redirect(services.checkout_next_step_url(session=session))
        context.update(step="details", contact_form=form)
        return _render_pay(request, context, status=400)
    if editing:
        context.update(step="details", contact_form=ContactForm(initial=ContactForm.initial_from_session(session)))
        return _render_pay(request, context)

    assert order is not None
    own_url = reverse("payments:pay", args=[session.pk])
    next_url = services.checkout_next_step_url(session=session)
    if next_url != own_url:
        return redirect(next_url)

    provider_name = services.order_provider_name(order)
    provider = get_provider(provider_name)
    context.update(step="payment", provider=provider_name, uses_card_form=provider.uses_card_form)
    if request.method == "POST" and request.POST.get("step") == "payment":
        card_form = CardForm(request.POST) if provider.uses_card_form else None
        if card_form is not None and not card_form.is_valid():
            context.update(card_form=card_form)
            return _render_pay(request, context, status=400)
        try:
            result = services.order_pay(
                order=order,
                actor=_user(request),
                card=card_form.to_card() if card_form is not None else None,
                request=request,
            )
        except services.CheckoutError as exc:
            context.update(card_form=CardForm() if provider.uses_card_form else None, payment_error=str(exc))
            return _render_pay(request, context, status=409)
        if result.outcome == "declined":
            initial = {"card_name": card_form.cleaned_data["card_name"]} if card_form is not None else {}
            context.update(card_form=CardForm(initial=initial), payment_error=result.message, declined=True)
            return _render_pay(request, context, status=402)
        if result.outcome == "requires_action":
            # Nothing is held yet (a Stripe payment is confirmed in the browser, never by this form):
            # no success message, and the order's consultation is not sent for review.
            return redirect("payments:pay", session.pk)
        order.refresh_from_db()
        if order.status == OrderStatus.AWAITING_REVIEW:
            messages.success(
                request, "Your order is placed. A hold is on your card; nothing is charged until a clinician approves."
            )
        else:
            messages.success(request, "Thank you: your payment is complete and your order is confirmed.")
        next_url = services.checkout_after_payment(order=order)
        # A merchant's session returns the shopper to the merchant's site.
        return redirect(hosted.success_url(session) or next_url)

    context["last_decline"] = order.payments.filter(status=PaymentStatus.FAILED).order_by("-created_at").first()
    if provider.uses_card_form:
        context["card_form"] = CardForm()
    elif provider_name == PaymentProviderName.STRIPE:
        try:
            payment = services.payment_prepare(order=order, actor=_user(request), request=request)
            context.update(
                stripe_payment=payment,
                stripe_client_secret=services.payment_client_secret(payment=payment),
                stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
                stripe_return_url=settings.SITE_URL + reverse("payments:pay_return", args=[session.pk]),
            )
        except services.CheckoutError as exc:
            context["payment_error"] = str(exc)
    response = _render_pay(request, context)
    if provider_name == PaymentProviderName.STRIPE:
        response._csp_update = STRIPE_CSP  # type: ignore[attr-defined]
    return response


@role_required(Role.SHOPPER)
@never_cache
def pay_return(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """Where Stripe.js sends the shopper after confirming: re-fetch the PaymentIntent and move on."""
    session = _get_session_for_user(request, session_id)
    order = Order.objects.filter(checkout_session=session).first()
    if order is None:
        return redirect("payments:pay", session.pk)
    payment = (
        Payment.objects.filter(order=order, provider=PaymentProviderName.STRIPE)
        .exclude(provider_reference="")
        .filter(provider_reference=request.GET.get("payment_intent", ""))
        .first()
    )
    if payment is None:
        return redirect("payments:pay", session.pk)
    try:
        payment = services.payment_sync(payment=payment, actor=_user(request), request=request)
    except services.CheckoutError as exc:
        messages.error(request, str(exc))
        return redirect("payments:pay", session.pk)
    order.refresh_from_db()
    if order.status == OrderStatus.AWAITING_PAYMENT:
        if payment.failure_message:
            messages.error(request, payment.failure_message)
        return redirect("payments:pay", session.pk)
    next_url = services.checkout_after_payment(order=order)
    return redirect(hosted.success_url(session) or next_url)


# --------------------------------------------------------------------------- orders


@role_required(Role.SHOPPER)
@never_cache
def orders(request: HttpRequest) -> HttpResponse:
    shopper_orders = list(selectors.orders_for_shopper(_user(request))[:100])
    return render(request, "payments/orders.html", {"orders": shopper_orders})


@role_required(Role.SHOPPER)
@never_cache
def order_detail(request: HttpRequest, order_id: UUID) -> HttpResponse:
    order = _get_order_for_user(request, order_id)
    payment = selectors.order_payment(order)
    audit_record(action="order.viewed", request=request, obj=order)
    return render(
        request,
        "payments/order_detail.html",
        {
            "order": order,
            "items": list(order.items.all()),
            "payment": payment,
            "refunds": list(order.refunds.all()),
            "timeline": selectors.order_timeline(order, payment),
            "next_step": selectors.order_next_step(order, payment),
            "has_receipt": selectors.order_has_receipt(order),
            "resume_url": reverse("payments:pay", args=[order.checkout_session_id])
            if order.status == OrderStatus.AWAITING_PAYMENT and order.checkout_session_id
            else "",
        },
    )


@role_required(Role.SHOPPER)
@never_cache
def receipt(request: HttpRequest, order_id: UUID, as_pdf: bool = False) -> HttpResponse:
    """The itemized receipt an HSA/FSA administrator needs, as a page or (``?format=pdf``) a PDF."""
    order = _get_order_for_user(request, order_id)
    if not selectors.order_has_receipt(order):
        raise Http404("This order has no receipt yet.")
    renderer = ReceiptRenderer(order)
    if as_pdf or request.GET.get("format") == "pdf":
        filename, mimetype, content = renderer.generate()
        audit_record(action="receipt.downloaded", request=request, obj=order)
        response = HttpResponse(content, content_type=mimetype)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    audit_record(action="receipt.viewed", request=request, obj=order)
    return render(request, "payments/receipt.html", renderer.context())


# --------------------------------------------------------------------------- webhook


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: a bad, missing or stale signature answers 400 before anything is written."""
    try:
        event = verify_stripe_event(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except BadSignature:
        return HttpResponseBadRequest("Invalid signature.", content_type="text/plain")
    try:
        outcome = stripe_event_handle(event=event)
    except (ProviderError, services.CheckoutError):
        # Stripe unreachable, or the capture after a no-letter order's hold failed (payment_sync
        # raises CheckoutError for both). Nothing was recorded (the transaction rolled back): Stripe
        # retries the event later.
        return JsonResponse({"received": False, "outcome": "stripe unreachable"}, status=503)
    return JsonResponse({"received": True, "outcome": outcome.message}, status=outcome.status)
