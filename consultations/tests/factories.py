from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from consultations.models import CategoryClinicalTemplate, ClinicianProfile, Credential, License, Questionnaire
from consultations.validators import npi_check_digit
from marketplace.tests.factories import CategoryFactory


def make_npi(n: int) -> str:
    base = f"{100000000 + n:09d}"
    return base + str(npi_check_digit(base))


SAMPLE_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "conditions",
        "label": "Which of these has a clinician diagnosed?",
        "type": "multi_choice",
        "section": "Conditions",
        "choices": [
            {"value": "insomnia", "label": "Insomnia"},
            {"value": "restless_legs", "label": "Restless legs syndrome"},
            {"value": "none", "label": "None of these"},
        ],
        "disqualify": ["none"],
        "disqualify_message": "A letter needs a diagnosed condition, so we ended this consultation kindly.",
    },
    {
        "key": "sleep_hours",
        "label": "How many hours do you sleep?",
        "type": "number",
        "section": "Conditions",
        "min": 0,
        "max": 16,
    },
    {
        "key": "impact",
        "label": "What does it stop you from doing?",
        "type": "text",
        "section": "Daily life",
        "max_length": 200,
    },
    {
        "key": "diagnosed_on",
        "label": "When were you diagnosed?",
        "type": "date",
        "section": "Daily life",
        "required": False,
    },
    {
        "key": "safety",
        "label": "Have you fallen asleep while driving?",
        "type": "yes_no",
        "section": "Safety",
        "disqualify": ["yes"],
    },
]

GOOD_ANSWERS: dict[str, Any] = {
    "conditions": ["insomnia"],
    "sleep_hours": 5,
    "impact": "Working a full day after waking at 3 am.",
    "diagnosed_on": None,
    "safety": "no",
}


class QuestionnaireFactory(factory.django.DjangoModelFactory[Questionnaire]):
    class Meta:
        model = Questionnaire

    category = factory.SubFactory(CategoryFactory, name="Sleep & home wellness", slug="sleep-home-wellness")
    version = 1
    title = "Sleep consultation"
    introduction = "A few questions about your sleep."
    questions = factory.LazyFunction(lambda: [dict(q) for q in SAMPLE_QUESTIONS])
    published_at = factory.LazyFunction(timezone.now)


class ClinicalTemplateFactory(factory.django.DjangoModelFactory[CategoryClinicalTemplate]):
    class Meta:
        model = CategoryClinicalTemplate

    category = factory.SubFactory(CategoryFactory, name="Sleep & home wellness", slug="sleep-home-wellness")
    icd10_codes = factory.LazyFunction(
        lambda: [
            {"code": "G47.00", "description": "Insomnia, unspecified"},
            {"code": "G25.81", "description": "Restless legs syndrome"},
        ]
    )
    diagnosis_template = "{answer:conditions}"
    history_template = "Sleeps {answer:sleep_hours} hours. {answer:impact}"
    treatment_frequency_template = "Nightly"
    treatment_duration_template = "12 months"
    justification_template = "The patient ({age}, {sex}, {state}) has {answer:conditions}; {products} treats it."


class ClinicianProfileFactory(factory.django.DjangoModelFactory[ClinicianProfile]):
    class Meta:
        model = ClinicianProfile

    user = factory.SubFactory(UserFactory, role=Role.CLINICIAN)
    legal_name = factory.LazyAttribute(lambda o: o.user.get_full_name())
    credential = Credential.MD
    npi = factory.Sequence(make_npi)
    phone = "+1 (555) 010-0100"
    contact_email = factory.LazyAttribute(lambda o: f"office.{o.user.email}")
    typed_signature = factory.LazyAttribute(lambda o: f"/s/ {o.legal_name}, {o.credential}")


class LicenseFactory(factory.django.DjangoModelFactory[License]):
    class Meta:
        model = License

    clinician = factory.SubFactory(ClinicianProfileFactory)
    state = "TX"
    number = factory.Sequence(lambda n: f"L{70000 + n}")
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
    verified_by = factory.SubFactory(UserFactory, role=Role.OPS)
    verified_at = factory.LazyFunction(timezone.now)
