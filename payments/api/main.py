"""The merchant API: ``NinjaAPI`` mounted at ``/api/v1/`` (flexlmn/urls.py).

Why django-ninja rather than Django REST framework (docs/INTEGRATION.md says
it for merchants too): the API is a handful of typed JSON operations, and
ninja turns the pydantic schemas that validate each request into the OpenAPI
document, so the document that schemathesis tests and merchants read cannot
drift from the code. DRF's serializers, viewsets and browsable API would be
more machinery than these five operations need, and its OpenAPI output needs a
third-party package (drf-spectacular) and annotations kept by hand.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import DocsBase

from .auth import MerchantKeyAuth
from .checkout_sessions import router as checkout_sessions_router
from .errors import ApiError, error_body, validation_error
from .products import router as products_router

logger = logging.getLogger(__name__)

DESCRIPTION = """\
Take HSA/FSA payments on your own site: create a checkout session, send the
shopper to its hosted `url`, and learn the outcome from signed webhooks.

* Authenticate with your secret key: `Authorization: Bearer flx_test_sk_…`
  (test mode: no card is ever charged) or `flx_live_sk_…`.
* Amounts are integers in cents (USD).
* Errors are JSON: `{"error": {"code": "...", "message": "...", "param": "..."}}`;
  a 400 names the field at fault in `param`.
* Send an `Idempotency-Key` header with every POST so a retry is safe.

The integration guide, with curl examples and the webhook signature recipe,
is `docs/INTEGRATION.md`.
"""


class OfflineSwagger(DocsBase):
    """Swagger UI from ``static/vendor/swagger-ui/`` (no CDN, no inline script: the site's CSP holds)."""

    template = "payments/api/docs.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {"url": self.get_openapi_url(api, kwargs), "layout": "BaseLayout", "deepLinking": True}
        return render(request, self.template, {"api": api, "swagger_settings": settings})


api = NinjaAPI(
    title="FlexLMN merchant API",
    version="v1",
    description=DESCRIPTION,
    urls_namespace="merchant_api",
    auth=MerchantKeyAuth(),
    docs=OfflineSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    docs_decorator=cache_control(max_age=300),
)
api.add_router("", checkout_sessions_router)
api.add_router("", products_router)


def _json(
    request: HttpRequest, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> HttpResponse:
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return _json(request, exc.status, exc.body(), exc.headers)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    error = validation_error(list(exc.errors))
    return _json(request, error.status, error.body())


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _json(request, 401, error_body("invalid_api_key", "Authentication failed."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # ninja's only 400 is a body that is not JSON.
        return _json(request, 400, error_body("invalid_json", "The request body is not valid JSON.", "body"))
    return _json(request, exc.status_code, error_body("http_error", str(exc)))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _json(request, 404, error_body("resource_missing", "Not found."))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged with the request path only: request bodies never reach the logs.
    logger.exception("Merchant API error on %s %s", request.method, request.path)
    return _json(request, 500, error_body("api_error", "Something went wrong on our side. Retry later."))
