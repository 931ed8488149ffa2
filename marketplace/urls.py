from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "marketplace"

urlpatterns: list[URLPattern | URLResolver] = [
    path("shop/", views.shop, name="shop"),
    path("shop/sell/", views.sell, name="sell"),
    path("shop/sell/thanks/", views.sell_thanks, name="sell_thanks"),
    path("shop/c/<slug:category>/", views.category, name="category"),
    path("shop/m/<slug:merchant>/", views.merchant, name="merchant"),
    path("shop/m/<slug:merchant>/logo/", views.merchant_logo, name="merchant_logo"),
    path("shop/p/<slug:product>/", views.product, name="product"),
    path("shop/p/<slug:product>/image/", views.product_image, name="product_image"),
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add_view, name="cart_add"),
    path("cart/update/", views.cart_update_view, name="cart_update"),
    path("cart/remove/", views.cart_remove_view, name="cart_remove"),
    path("cart/remove-not-eligible/", views.cart_remove_not_eligible_view, name="cart_remove_not_eligible"),
]
