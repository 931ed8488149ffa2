from __future__ import annotations

from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("clinician/", views.clinician_queue, name="clinician_queue"),
]
