from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "payments"

urlpatterns: list[URLPattern | URLResolver] = [
    path("checkout/", views.checkout, name="checkout"),
    path("pay/<uuid:session_id>/", views.pay, name="pay"),
    path("pay/<uuid:session_id>/return/", views.pay_return, name="pay_return"),
    path("orders/", views.orders, name="orders"),
    path("orders/<uuid:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<uuid:order_id>/receipt/", views.receipt, name="receipt"),
    path("orders/<uuid:order_id>/receipt.pdf", views.receipt, {"as_pdf": True}, name="receipt_pdf"),
    path("payments/webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
]
