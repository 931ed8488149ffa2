from __future__ import annotations

from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("consultations/<uuid:consultation_id>/", views.consultation_detail, name="detail"),
    path("consultations/<uuid:consultation_id>/step/<int:step>/", views.consultation_step, name="step"),
    path("consultations/<uuid:consultation_id>/reply/", views.consultation_reply, name="reply"),
    path("clinician/", views.clinician_queue, name="clinician_queue"),
    path("clinician/next/", views.review_next, name="review_next"),
    path("clinician/cases/<uuid:case_id>/", views.case_detail, name="case"),
    path("clinician/cases/<uuid:case_id>/claim/", views.case_claim, name="case_claim"),
    path("clinician/cases/<uuid:case_id>/ask/", views.case_ask, name="case_ask"),
    path("clinician/cases/<uuid:case_id>/approve/", views.case_approve, name="case_approve"),
    path("clinician/cases/<uuid:case_id>/deny/", views.case_deny, name="case_deny"),
]
