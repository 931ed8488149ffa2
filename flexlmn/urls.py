from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from payments.api.main import api as merchant_api

from . import views
from .outage import merchant_api_pass_outages_on

# The admin login goes through allauth, so MFA and its rate limits apply there too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "FlexLMN operations"
admin.site.site_title = "FlexLMN ops"
admin.site.index_title = "Merchants, products, clinicians and orders"
# The API turns every unexpected exception into a JSON 500; a database outage must reach handler500 (a 503).
merchant_api_pass_outages_on(merchant_api)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("", include("marketplace.urls")),
    path("", include("payments.urls")),
    path("", include("consultations.urls")),
    path("", include("letters.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("payments.api.urls")),
]

handler403 = "flexlmn.views.permission_denied"
handler404 = "flexlmn.views.page_not_found"
handler500 = "flexlmn.views.server_error"
