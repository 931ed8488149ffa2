"""Questionnaires are versioned: publishing a new version never changes what an earlier consultation was asked."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from consultations.models import Questionnaire, QuestionnaireLocked
from consultations.questions import validate_questions
from consultations.services import consultation_start, questionnaire_new_version, questionnaire_publish
from consultations.tests.factories import SAMPLE_QUESTIONS, QuestionnaireFactory
from marketplace.models import Category

pytestmark = pytest.mark.django_db


def test_a_consultation_keeps_the_version_and_questions_it_was_asked(
    questionnaire: Questionnaire, sleep: Category, shopper: User, ops: User
) -> None:
    first = consultation_start(patient=shopper, categories=[sleep])

    draft = questionnaire_new_version(questionnaire=questionnaire, actor=ops)
    draft.questions = [*draft.questions[:2], {"key": "naps", "label": "Do you nap?", "type": "yes_no"}]
    draft.save()
    questionnaire_publish(questionnaire=draft, actor=ops)
    second = consultation_start(patient=shopper, categories=[sleep])

    assert draft.version == 2
    assert list(first.questionnaires.all()) == [questionnaire]
    assert list(second.questionnaires.all()) == [draft]
    assert [q["key"] for q in first.questions_snapshot[0]["questions"]] == [q["key"] for q in SAMPLE_QUESTIONS]
    assert first.questions_snapshot[0]["version"] == 1
    assert [q["key"] for q in second.questions_snapshot[0]["questions"]] == ["conditions", "sleep_hours", "naps"]
    questionnaire.refresh_from_db()
    assert [q["key"] for q in questionnaire.questions] == [q["key"] for q in SAMPLE_QUESTIONS]


def test_a_draft_version_is_never_asked(
    questionnaire: Questionnaire, sleep: Category, shopper: User, ops: User
) -> None:
    questionnaire_new_version(questionnaire=questionnaire, actor=ops)
    consultation = consultation_start(patient=shopper, categories=[sleep])
    assert consultation.questions_snapshot[0]["version"] == 1


def test_a_published_version_cannot_be_changed_or_deleted(questionnaire: Questionnaire) -> None:
    questionnaire.questions = questionnaire.questions[:1]
    with pytest.raises(QuestionnaireLocked):
        questionnaire.save()
    fresh = Questionnaire.objects.get(pk=questionnaire.pk)
    fresh.title = "Renamed"
    with pytest.raises(ValidationError, match="Create a new version"):
        fresh.full_clean()
    with pytest.raises(QuestionnaireLocked):
        fresh.delete()


def test_publishing_twice_is_refused(questionnaire: Questionnaire, ops: User) -> None:
    from consultations.services import ConsultationError

    with pytest.raises(ConsultationError, match="already published"):
        questionnaire_publish(questionnaire=questionnaire, actor=ops)


def test_questions_are_validated_on_save(sleep: Category) -> None:
    broken = copy.deepcopy(SAMPLE_QUESTIONS)
    broken[0]["disqualify"] = ["not_a_choice"]
    with pytest.raises(ValidationError, match="not choices"):
        Questionnaire.objects.create(category=sleep, version=3, title="Broken", questions=broken)


def test_defaults_are_written_out_when_saved(sleep: Category) -> None:
    questionnaire = QuestionnaireFactory(
        category=sleep, version=4, questions=[{"key": "notes", "label": "Anything else?", "type": "text"}]
    )
    assert questionnaire.questions == [
        {
            "key": "notes",
            "label": "Anything else?",
            "help_text": "",
            "type": "text",
            "required": True,
            "section": "Your health",
            "max_length": 1000,
        }
    ]


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ({"label": "No key", "type": "text"}, "the key must start"),
        ({"key": "Bad Key", "label": "x", "type": "text"}, "the key must start"),
        ({"key": "a", "label": "", "type": "text"}, "label must be 1–300"),
        ({"key": "a", "label": "x", "type": "essay"}, "the type must be one of"),
        (
            {"key": "a", "label": "x", "type": "single_choice", "choices": [{"value": "one", "label": "One"}]},
            "at least two choices",
        ),
        ({"key": "a", "label": "x", "type": "text", "choices": []}, "only single_choice and multi_choice"),
        ({"key": "a", "label": "x", "type": "text", "disqualify": ["yes"]}, "only choice and yes/no"),
        ({"key": "a", "label": "x", "type": "yes_no", "disqualify": ["yes", "no"]}, "every answer would disqualify"),
        ({"key": "a", "label": "x", "type": "yes_no", "disqualify_message": "Sorry"}, "needs a disqualify list"),
        ({"key": "a", "label": "x", "type": "text", "max_length": 5000}, "maximum length must be"),
        ({"key": "a", "label": "x", "type": "number", "max_length": 10}, "only text questions"),
        ({"key": "a", "label": "x", "type": "number", "min": 10, "max": 1}, "min must not be greater"),
        ({"key": "a", "label": "x", "type": "text", "colour": "red"}, "unknown field"),
        ({"key": "a", "label": "x", "type": "text", "required": "yes"}, "required must be true or false"),
    ],
)
def test_each_question_rule_has_a_clear_error(question: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_questions([question])
    assert any(message in text for text in excinfo.value.messages), excinfo.value.messages


def test_duplicate_keys_and_empty_lists_are_refused() -> None:
    with pytest.raises(ValidationError, match="used by another question"):
        validate_questions([{"key": "a", "label": "x", "type": "text"}, {"key": "a", "label": "y", "type": "text"}])
    with pytest.raises(ValidationError, match="at least one question"):
        validate_questions([])


def test_sample_questions_are_valid() -> None:
    validate_questions(SAMPLE_QUESTIONS)
