"""The shopper's letters: the vault, downloads, corrections, renewals and letters without a purchase."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from accounts.permissions import role_required
from accounts.services import audit_record
from consultations.models import Consultation, ConsultationStatus

from .. import corrections, selectors, services
from ..forms import CorrectionForm, LetterRequestForm
from ..models import Letter, LetterRequest, LetterStatus
from ._common import intake_url, user_of

# Stripe.js and the Payment Element's frames, on the fee payment page only, only with the stripe provider.
# https://docs.stripe.com/security/guide#content-security-policy
STRIPE_CSP: dict[str, list[str]] = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def _get_letter_for_user(request: HttpRequest, letter_id: UUID) -> Letter:
    """The letter, if it is this shopper's; anybody else's answers 404."""
    letter = (
        Letter.objects.filter(pk=letter_id, patient=user_of(request)).prefetch_related("covered_categories").first()
    )
    if letter is None:
        raise Http404("No such letter.")
    return letter


def _get_request_for_user(request: HttpRequest, consultation_id: UUID) -> LetterRequest:
    letter_request = (
        LetterRequest.objects.filter(consultation_id=consultation_id, shopper=user_of(request))
        .select_related("consultation", "category", "order", "renews")
        .first()
    )
    if letter_request is None:
        raise Http404("No such letter request.")
    return letter_request


# --------------------------------------------------------------------------- vault and download


@role_required(Role.SHOPPER)
@never_cache
@require_GET
def vault(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    entries = selectors.vault_entries(user)
    audit_record(action="letters.listed", request=request, extra={"count": len(entries)})
    return render(
        request,
        "letters/vault.html",
        {"entries": entries, "open_requests": selectors.open_letter_requests(user)},
    )


@role_required(Role.SHOPPER)
@never_cache
@require_GET
def letter_pdf(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    """The letter PDF, served through Django from private storage; every download is audited."""
    letter = _get_letter_for_user(request, letter_id)
    try:
        data = services.letter_pdf_bytes(letter=letter)
    except services.LetterError as exc:
        raise Http404("The letter file is not available.") from exc
    audit_record(
        action="letter.downloaded",
        request=request,
        obj=letter,
        extra={"version": letter.version, "sha256": letter.pdf_sha256},
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{letter.pdf_filename}"'
    response["Cache-Control"] = "no-store, private"
    return response


# --------------------------------------------------------------------------- corrections


@sensitive_post_parameters("legal_name", "date_of_birth", "note")
@role_required(Role.SHOPPER)
@never_cache
@require_http_methods(["GET", "POST"])
def correction(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    """Ask for a fix of the name or date of birth printed on a letter."""
    letter = _get_letter_for_user(request, letter_id)
    if request.method == "POST":
        form = CorrectionForm(request.POST)
        if form.is_valid():
            try:
                corrections.letter_correction_request(
                    letter=letter,
                    shopper=user_of(request),
                    legal_name=form.cleaned_data["legal_name"],
                    date_of_birth=form.cleaned_data["date_of_birth"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except services.LetterError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    "Thank you. A clinician will check the correction; you will get the corrected letter by email.",
                )
                return redirect("letters:vault")
        status = 400
    else:
        form = CorrectionForm(
            initial={"legal_name": letter.patient_legal_name, "date_of_birth": letter.patient_date_of_birth}
        )
        status = 200
    audit_record(action="letter.viewed", request=request, obj=letter, extra={"page": "correction"})
    return render(
        request,
        "letters/correction.html",
        {"letter": letter, "form": form, "state": selectors.letter_state(letter)},
        status=status,
    )


# --------------------------------------------------------------------------- renewal


@role_required(Role.SHOPPER)
@never_cache
@require_http_methods(["GET", "POST"])
def renew(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    """The reminder email's link: confirm, then start a renewal consultation pre-filled from the last answers."""
    letter = _get_letter_for_user(request, letter_id)
    letter = selectors.newest_version(letter)
    if request.method == "POST":
        try:
            letter_request = services.letter_renewal_start(letter=letter, shopper=user_of(request), request=request)
        except services.LetterError as exc:
            messages.error(request, str(exc))
            return redirect("letters:vault")
        return redirect(intake_url(letter_request.consultation_id))
    categories = list(letter.covered_categories.all())
    fee_cents = selectors.renewal_fee(categories)[1] if categories else 0
    # An unfinished renewal (intake half done, or a declined card) is continued by the same button.
    unfinished = selectors.has_unfinished_renewal(shopper=user_of(request), letter=letter)
    renewing = not unfinished and bool(selectors.letters_being_renewed(shopper=user_of(request), letter=letter))
    return render(
        request,
        "letters/renew.html",
        {
            "letter": letter,
            "state": selectors.letter_state(letter),
            "categories": categories,
            "fee_cents": fee_cents,
            "renewing": renewing,
            "unfinished": unfinished,
            "renewable": letter.status == LetterStatus.ISSUED and bool(categories) and not renewing,
        },
    )


# --------------------------------------------------------------------------- a letter without a purchase


@role_required(Role.SHOPPER)
@never_cache
@require_http_methods(["GET", "POST"])
def letter_request(request: HttpRequest) -> HttpResponse:
    """Pick a category, see its fee, and start the same intake a checkout would."""
    options = selectors.requestable_categories()
    form = LetterRequestForm(request.POST or None, options=options)
    if request.method == "POST" and form.is_valid():
        try:
            started = services.letter_request_start(
                shopper=user_of(request), category=form.cleaned_option().category, request=request
            )
        except services.LetterError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(intake_url(started.consultation_id))
    return render(
        request,
        "letters/request.html",
        {"form": form, "options": options, "open_requests": selectors.open_letter_requests(user_of(request))},
        status=400 if request.method == "POST" else 200,
    )


def _pay_context(letter_request: LetterRequest) -> dict[str, Any]:
    from payments.models import PaymentProviderName
    from payments.providers import get_provider

    provider_name = PaymentProviderName.NONE if letter_request.fee_cents == 0 else settings.PAYMENT_PROVIDER
    return {
        "letter_request": letter_request,
        "consultation": letter_request.consultation,
        "categories": list(letter_request.consultation.categories.all()),
        "provider": provider_name,
        "uses_card_form": get_provider(provider_name).uses_card_form,
        "intake_url": intake_url(letter_request.consultation_id),
    }


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry", "card_name")
@role_required(Role.SHOPPER)
@never_cache
@require_http_methods(["GET", "POST"])
def request_pay(request: HttpRequest, consultation_id: UUID) -> HttpResponse:
    """After the intake of a request or renewal: authorize the fee and send the case for review."""
    from payments.forms import CardForm
    from payments.models import PaymentProviderName
    from payments.services import CheckoutError, payment_client_secret, payment_prepare

    letter_request = _get_request_for_user(request, consultation_id)
    consultation = letter_request.consultation
    if consultation.status != ConsultationStatus.DRAFT:
        return redirect(intake_url(consultation.pk))
    if consultation.intake_completed_at is None:
        messages.info(request, "Finish the questionnaire first.")
        return redirect(intake_url(consultation.pk))
    context = _pay_context(letter_request)
    if request.method == "POST":
        card_form = CardForm(request.POST) if context["uses_card_form"] else None
        if card_form is not None and not card_form.is_valid():
            context["card_form"] = card_form
            return render(request, "letters/request_pay.html", context, status=400)
        try:
            result = services.letter_request_pay(
                letter_request=letter_request,
                actor=user_of(request),
                card=card_form.to_card() if card_form is not None else None,
                request=request,
            )
        except services.LetterError as exc:
            context.update(card_form=CardForm() if context["uses_card_form"] else None, payment_error=str(exc))
            return render(request, "letters/request_pay.html", context, status=409)
        if result.outcome == "declined":
            context.update(card_form=CardForm(), payment_error=result.message)
            return render(request, "letters/request_pay.html", context, status=402)
        if result.outcome == "authorized":
            messages.success(
                request,
                "Sent for review. A licensed clinician reviews your answers; "
                + (
                    "nothing is charged unless your letter is approved."
                    if letter_request.fee_cents
                    else "there is no fee."
                ),
            )
            return redirect(intake_url(consultation.pk))
    if context["uses_card_form"]:
        context["card_form"] = CardForm()
    elif context["provider"] == PaymentProviderName.STRIPE:
        try:
            order = services.letter_request_order(letter_request=letter_request, request=request)
            payment = payment_prepare(order=order, actor=user_of(request), request=request)
            context.update(
                stripe_client_secret=payment_client_secret(payment=payment),
                stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
                stripe_return_url=settings.SITE_URL + reverse("letters:request_pay_return", args=[consultation.pk]),
            )
        except CheckoutError as exc:
            context["payment_error"] = str(exc)
    response = render(request, "letters/request_pay.html", context)
    if context["provider"] == PaymentProviderName.STRIPE:
        response._csp_update = STRIPE_CSP  # type: ignore[attr-defined]
    return response


@role_required(Role.SHOPPER)
@never_cache
@require_GET
def request_pay_return(request: HttpRequest, consultation_id: UUID) -> HttpResponse:
    """Where Stripe.js sends the shopper after confirming: re-fetch the PaymentIntent, then submit the case."""
    from payments.models import Payment, PaymentProviderName
    from payments.services import CheckoutError, payment_sync

    letter_request = _get_request_for_user(request, consultation_id)
    if letter_request.order is None:
        return redirect("letters:request_pay", consultation_id)
    payment = (
        Payment.objects.filter(
            order=letter_request.order,
            provider=PaymentProviderName.STRIPE,
            provider_reference=request.GET.get("payment_intent", ""),
        )
        .exclude(provider_reference="")
        .first()
    )
    if payment is None:
        return redirect("letters:request_pay", consultation_id)
    try:
        payment = payment_sync(payment=payment, actor=user_of(request), request=request)
    except CheckoutError as exc:
        messages.error(request, str(exc))
        return redirect("letters:request_pay", consultation_id)
    submitted_now = services.letter_request_after_payment(order=letter_request.order, request=request)
    # A webhook or the payment service itself may already have sent the case for review.
    if (
        submitted_now
        or Consultation.objects.filter(pk=letter_request.consultation_id, status=ConsultationStatus.SUBMITTED).exists()
    ):
        messages.success(request, "Sent for review. Nothing is charged unless your letter is approved.")
        return redirect(intake_url(consultation_id))
    if payment.failure_message:
        messages.error(request, payment.failure_message)
    return redirect("letters:request_pay", consultation_id)
