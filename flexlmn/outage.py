"""A database outage answers 503 Service Unavailable with ``Retry-After``, not the 500 page.

Where it is caught: Django turns an exception into a response inside *every*
middleware layer (``convert_exception_to_response``), so neither a wrapping
middleware nor ``process_exception`` (views only) sees the ``OperationalError``
that the session or authentication lookup raises for a signed-in request.
Every one of those layers asks the root URLconf's ``handler500`` for the
answer, though, while the exception is being handled; ``flexlmn.views.server_error``
asks :func:`outage_response` first. Django then logs the answer once, at
error level on ``django.request`` (with the traceback, scrubbed by
``flexlmn.logging``), which also emails ``ADMINS``.

The merchant API answers its own errors (an ``Exception`` handler in
``payments/api/main.py`` makes every unexpected one a JSON 500), so
:func:`merchant_api_pass_outages_on` gives it a more specific handler that
hands database outages back to Django; they come out as the API's error shape
with status 503.

With ``DEBUG`` on, Django shows its technical error page instead and never
calls ``handler500``.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.cache import add_never_cache_headers
from ninja import NinjaAPI

from payments.api.errors import error_body

from .context_processors import site_context

# The driver's "cannot reach / lost the server" errors; Django wraps psycopg's in these. They also cover a
# deadlock or a statement timeout, for which "try again shortly" is the right answer too.
DATABASE_OUTAGE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
# Long enough for a database failover or restart; short enough that a person retrying by hand is not kept waiting.
RETRY_AFTER_SECONDS = 30
API_PREFIX = "/api/"


def is_database_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_OUTAGE_ERRORS)


def outage_response(request: HttpRequest) -> HttpResponse:
    """503 with ``Retry-After``: JSON for the merchant API, else a page rendered without touching the database."""
    response: HttpResponse
    if request.path.startswith(API_PREFIX):
        message = (
            f"FlexLMN is briefly unavailable. Retry in {RETRY_AFTER_SECONDS} seconds; "
            "a POST retried with the same Idempotency-Key is applied at most once."
        )
        response = JsonResponse(error_body("service_unavailable", message), status=503)
    else:
        # No request in the render, hence no context processors: request.user would query the database.
        response = HttpResponse(loader.get_template("errors/503.html").render(site_context()), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # A cache or CDN must not keep serving the outage page after the database is back.
    add_never_cache_headers(response)
    return response


def _pass_on(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    raise exc


def merchant_api_pass_outages_on(api: NinjaAPI) -> None:
    """Let database outages leave the ninja API ``api`` as exceptions, so ``handler500`` answers them with a 503."""
    for exc_class in DATABASE_OUTAGE_ERRORS:
        api.add_exception_handler(exc_class, _pass_on)
