from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from consultations.models import CategoryClinicalTemplate, ClinicianProfile, Questionnaire
from consultations.questions import validate_questions
from consultations.selectors import clinician_signable_states
from consultations.templating import render_template_text
from consultations.validators import validate_icd10_list, validate_npi
from marketplace.models import Category

pytestmark = pytest.mark.django_db


def test_every_demo_category_gets_a_published_questionnaire_and_templates() -> None:
    call_command("seed_demo", stdout=StringIO())
    categories = Category.objects.all()
    assert categories.count() == 7
    for category in categories:
        questionnaire = Questionnaire.objects.current_for(category)
        assert questionnaire is not None and questionnaire.version == 1
        validate_questions(questionnaire.questions)
        assert any(q.get("disqualify") for q in questionnaire.questions)
        template = CategoryClinicalTemplate.objects.get(category=category)
        validate_icd10_list(template.icd10_codes)
        keys = {q["key"] for q in questionnaire.questions}
        for placeholder in ("conditions", "treatments_tried"):
            assert placeholder in keys
        text = render_template_text(template.justification_template, values={"products": "X"}, answers={})
        assert "{" not in text


def test_the_demo_clinician_is_licensed_in_many_states() -> None:
    call_command("seed_demo", stdout=StringIO())
    profile = ClinicianProfile.objects.get(user__email="clinician@demo.flexlmn.example")
    validate_npi(profile.npi)
    states = clinician_signable_states(profile.user)
    assert {"CA", "TX", "NY", "FL", "WA"} <= states
    assert len(states) >= 10


def test_seeding_twice_changes_nothing() -> None:
    call_command("seed_demo", stdout=StringIO())
    counts = (Questionnaire.objects.count(), CategoryClinicalTemplate.objects.count(), ClinicianProfile.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (
        Questionnaire.objects.count(),
        CategoryClinicalTemplate.objects.count(),
        ClinicianProfile.objects.count(),
    ) == counts
