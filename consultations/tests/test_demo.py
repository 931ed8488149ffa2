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


def test_the_demo_patients_free_text_answers_fit_each_question_and_category() -> None:
    """A clinician opening a demo case reads answers that make sense: medications under medications, and an
    impact sentence about the category under review (not the sleep sentence on a pain relief case)."""
    from consultations.models import Consultation, ConsultationStatus
    from letters.demo import IMPACT_BY_CATEGORY, TEXT_ANSWERS

    call_command("seed_demo", stdout=StringIO())
    waiting = Consultation.objects.filter(status=ConsultationStatus.SUBMITTED).prefetch_related("categories")
    assert waiting.count() >= 3
    seen_categories = set()
    for case in waiting:
        [category] = case.categories.all()
        seen_categories.add(category.slug)
        answers = {key: value for block in case.answers.values() for key, value in block.items()}
        assert answers["medications"] == TEXT_ANSWERS["medications"]
        assert answers["allergies"] == TEXT_ANSWERS["allergies"]
        assert answers["impact_details"] == IMPACT_BY_CATEGORY[category.slug]
    assert len(seen_categories) >= 2
    assert set(IMPACT_BY_CATEGORY) == set(Category.objects.values_list("slug", flat=True))
