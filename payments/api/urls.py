"""The merchant API's URLs, for ``path("api/v1/", include("payments.api.urls"))``."""

from __future__ import annotations

from .main import api

# ninja names its URLs under the API's namespace ("merchant_api:openapi-json").
app_name = api.urls_namespace
urlpatterns = api.urls[0]
