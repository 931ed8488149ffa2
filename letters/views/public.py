"""Public verification for HSA/FSA administrators: no login, rate limited per IP, the minimum shown.

The pages show a letter's status, dates, covered categories, the signing
clinician's name, credential and license, and the PDF's SHA-256 — never the
patient's diagnosis, answers or date of birth.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from accounts.services import audit_record

from .. import selectors
from ..conf import verify_upload_max_bytes
from ..documents import HASH_CHUNK
from ..forms import VerifyTokenForm, VerifyUploadForm
from ..models import Letter
from ..ratelimit import verify_rate_limited

# Room for the multipart envelope around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: never send it to another site as a Referer ("same-origin",
    # not "no-referrer": with no-referrer Chromium posts our own forms with
    # ``Origin: null`` and Django's CSRF check refuses them), and keep the page out of search engines.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _letter_context(letter: Letter) -> dict[str, Any]:
    newer = selectors.newest_version(letter)
    return {
        "letter": letter,
        "state": selectors.letter_state(letter),
        "categories": [c.name for c in letter.covered_categories.order_by("ordering", "name")],
        "newer": newer if newer.pk != letter.pk else None,
    }


def _declared_length(request: HttpRequest) -> int:
    # Django reads no more of the body than Content-Length says (an unreadable one counts as 0).
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


# CSRF is checked by ``_verify`` below, once the size is known: the CSRF middleware reads the form
# (so the whole upload, streamed to a temporary file) before any view could refuse an oversized one.
@csrf_exempt
@never_cache
@verify_rate_limited
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Check a letter by its verification code, or by uploading the PDF (its SHA-256 against ours)."""
    if request.method == "POST" and _declared_length(request) > verify_upload_max_bytes() + _MULTIPART_OVERHEAD:
        context = _verify_context()
        context["upload_error"] = f"The file is larger than {context['max_mb']} MB; a letter is much smaller."
        return _private(render(request, "letters/verify.html", context, status=413))
    return _verify(request)


def _verify_context() -> dict[str, Any]:
    return {
        "max_mb": verify_upload_max_bytes() // (1024 * 1024),
        "token_form": VerifyTokenForm(),
        "upload_form": VerifyUploadForm(),
    }


@csrf_protect
def _verify(request: HttpRequest) -> HttpResponse:
    context = _verify_context()
    status = 200
    if request.method == "POST" and request.POST.get("action") == "token":
        token_form = VerifyTokenForm(request.POST)
        if token_form.is_valid():
            return redirect("letters:verify_token", token=token_form.cleaned_data["token"])
        context["token_form"] = token_form
        status = 400
    elif request.method == "POST":
        upload_form = VerifyUploadForm(request.POST, request.FILES)
        if upload_form.is_valid():
            digest = hashlib.sha256()
            for chunk in upload_form.cleaned_data["pdf"].chunks(HASH_CHUNK):
                digest.update(chunk)
            sha256 = digest.hexdigest()
            letter = selectors.letter_by_sha256(sha256)
            audit_record(
                action="letter.verification_uploaded",
                request=request,
                obj=letter,
                extra={"matched": letter is not None},
            )
            context.update(upload_checked=True, upload_sha256=sha256)
            if letter is not None:
                context.update(_letter_context(letter))
        else:
            context["upload_form"] = upload_form
            status = 400
    return _private(render(request, "letters/verify.html", context, status=status))


@never_cache
@verify_rate_limited
@require_http_methods(["GET"])
def verify_token(request: HttpRequest, token: str) -> HttpResponse:
    """Is this letter genuine, and is it valid, expired, revoked or superseded? Unknown tokens answer 404."""
    letter = selectors.letter_by_token(token)
    if letter is None:
        return _private(render(request, "letters/verify_unknown.html", status=404))
    audit_record(action="letter.verification_viewed", request=request, obj=letter)
    return _private(render(request, "letters/verify_result.html", _letter_context(letter)))
