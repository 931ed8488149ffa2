from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from .views import clinician, public, shopper

app_name = "letters"

urlpatterns: list[URLPattern | URLResolver] = [
    path("letters/", shopper.vault, name="vault"),
    path("letters/request/", shopper.letter_request, name="request"),
    path("letters/request/<uuid:consultation_id>/pay/", shopper.request_pay, name="request_pay"),
    path("letters/request/<uuid:consultation_id>/pay/return/", shopper.request_pay_return, name="request_pay_return"),
    path("letters/<uuid:letter_id>/pdf/", shopper.letter_pdf, name="pdf"),
    path("letters/<uuid:letter_id>/correction/", shopper.correction, name="correction"),
    path("letters/<uuid:letter_id>/renew/", shopper.renew, name="renew"),
    path("verify/", public.verify, name="verify"),
    path("verify/<str:token>/", public.verify_token, name="verify_token"),
    path("clinician/corrections/", clinician.corrections, name="corrections"),
    path("clinician/corrections/<uuid:correction_id>/", clinician.correction_detail, name="correction_detail"),
]
