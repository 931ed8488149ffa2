"""Intake and review forms. Every rule is checked on the server; the browser only helps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .conf import (
    DECISION_TEXT_MAX,
    DENIAL_NOTE_MAX,
    DENIAL_REASONS,
    LEGAL_NAME_MAX,
    MESSAGE_MAX,
    MINIMUM_AGE,
    TEXT_ANSWER_MAX,
    age_on,
)
from .models import Sex
from .questions import DEFAULT_TEXT_MAX, QuestionType, question_choices
from .states import US_STATE_CODES, US_STATES
from .validators import validate_no_ssn

OUTSIDE_US = "outside_us"
UNDER_AGE_MESSAGE = (
    "FlexLMN consultations are for adults: you must be 18 or older. A parent or guardian can complete "
    "a consultation for their own care."
)
OUTSIDE_US_MESSAGE = (
    "Our clinicians are licensed in US states only, so we cannot offer a consultation to someone who lives "
    "outside the United States. Nothing has been charged."
)
EARLIEST_DATE = date(1900, 1, 1)


class PatientDetailsForm(forms.Form):
    legal_name = forms.CharField(
        label="Full legal name",
        max_length=LEGAL_NAME_MAX,
        help_text="As it appears on your HSA/FSA account. It is printed on your letter.",
        validators=[validate_no_ssn],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    sex = forms.ChoiceField(label="Sex", choices=Sex.choices, widget=forms.RadioSelect)
    state = forms.ChoiceField(
        label="State where you live",
        choices=[("", "Choose your state"), *US_STATES, (OUTSIDE_US, "I live outside the United States")],
        help_text="A clinician licensed in your state reviews your answers.",
    )

    def clean_legal_name(self) -> str:
        name = " ".join(self.cleaned_data["legal_name"].split())
        if len(name) < 2 or not any(ch.isalpha() for ch in name):
            raise ValidationError("Enter your full legal name.")
        return name

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today or born < EARLIEST_DATE:
            raise ValidationError("Enter your real date of birth.")
        if age_on(born, today) < MINIMUM_AGE:
            raise ValidationError(UNDER_AGE_MESSAGE, code="under_age")
        return born

    def clean_state(self) -> str:
        state: str = self.cleaned_data["state"]
        if state not in US_STATE_CODES:
            raise ValidationError(OUTSIDE_US_MESSAGE, code="outside_us")
        return state


def _field_for(question: dict[str, Any]) -> forms.Field:
    common: dict[str, Any] = {
        "label": question["label"],
        "help_text": question.get("help_text", ""),
        "required": question.get("required", True),
    }
    qtype = question["type"]
    choices = [(c["value"], c["label"]) for c in question_choices(question)]
    if qtype in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if qtype == QuestionType.MULTI_CHOICE:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if qtype == QuestionType.TEXT:
        max_length = min(int(question.get("max_length", DEFAULT_TEXT_MAX)), TEXT_ANSWER_MAX)
        return forms.CharField(
            max_length=max_length,
            validators=[validate_no_ssn],
            widget=forms.Textarea(attrs={"rows": 2 if max_length <= 300 else 3, "maxlength": max_length}),
            **common,
        )
    if qtype == QuestionType.NUMBER:
        return forms.DecimalField(
            max_digits=9,
            decimal_places=2,
            min_value=question.get("min"),
            max_value=question.get("max"),
            widget=forms.NumberInput(attrs={"inputmode": "decimal"}),
            **common,
        )
    if qtype == QuestionType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    raise ValueError(f"Unknown question type {qtype!r}")


def _to_json(question: dict[str, Any], value: Any) -> Any:
    if value in (None, "") or value == []:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


class QuestionsForm(forms.Form):
    """One intake step's questions, built from the (snapshotted) question definitions."""

    def __init__(self, *args: Any, questions: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[question["key"]] = _field_for(question)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        for question in self.questions:
            value = cleaned.get(question["key"])
            if (
                question["type"] == QuestionType.DATE
                and isinstance(value, date)
                and not EARLIEST_DATE <= value <= today
            ):
                self.add_error(question["key"], "Enter a date between 1900 and today.")
        return cleaned

    def answers(self, *, valid_only: bool = False) -> dict[str, Any]:
        """JSON-ready answers keyed by question key (only the fields that validated, when ``valid_only``)."""
        data = self.cleaned_data
        return {
            q["key"]: _to_json(q, data[q["key"]])
            for q in self.questions
            if q["key"] in data and not (valid_only and q["key"] in self.errors)
        }

    @staticmethod
    def initial_from(questions: list[dict[str, Any]], stored: dict[str, Any]) -> dict[str, Any]:
        return {q["key"]: stored[q["key"]] for q in questions if stored.get(q["key"]) is not None}


class ConsentForm(forms.Form):
    consent_telehealth = forms.BooleanField(
        label=(
            "I consent to a telehealth consultation: a licensed clinician reviews my answers without a video "
            "or phone call, may message me with questions, and decides whether a Letter of Medical Necessity "
            "is appropriate."
        ),
        error_messages={"required": "Please consent to the telehealth consultation to continue."},
    )
    attest_true = forms.BooleanField(
        label=(
            "I confirm my answers are true and complete to the best of my knowledge, and that I am answering "
            "for myself."
        ),
        error_messages={"required": "Please confirm that your answers are true."},
    )


class PatientReplyForm(forms.Form):
    body = forms.CharField(
        label="Your answer",
        max_length=MESSAGE_MAX,
        validators=[validate_no_ssn],
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MESSAGE_MAX}),
    )


class ClinicianQuestionForm(forms.Form):
    body = forms.CharField(
        label="Question for the patient",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MESSAGE_MAX}),
        help_text="The patient is emailed that you have a question and answers on their consultation page.",
    )


class ApprovalForm(forms.Form):
    diagnosis = forms.CharField(
        max_length=DECISION_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2, "maxlength": DECISION_TEXT_MAX})
    )
    icd10_code = forms.ChoiceField(label="ICD-10 code")
    relevant_history = forms.CharField(
        max_length=DECISION_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5, "maxlength": DECISION_TEXT_MAX})
    )
    justification = forms.CharField(
        label="Justification of medical necessity",
        max_length=DECISION_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 7, "maxlength": DECISION_TEXT_MAX}),
    )

    def __init__(self, *args: Any, icd10_options: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["icd10_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(code, f"{code} · {description}") for code, description in icd10_options]


class TreatmentLineForm(forms.Form):
    product_or_category = forms.CharField(label="Product or category", max_length=200)
    frequency = forms.CharField(max_length=200)
    duration = forms.CharField(max_length=200)


TreatmentPlanFormSet = forms.formset_factory(
    TreatmentLineForm, extra=0, min_num=1, validate_min=True, max_num=20, validate_max=True
)


class DenialForm(forms.Form):
    reason_code = forms.ChoiceField(label="Reason", choices=DENIAL_REASONS, widget=forms.RadioSelect)
    note = forms.CharField(
        label="A note for the patient",
        max_length=DENIAL_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": DENIAL_NOTE_MAX}),
        help_text="Speak to their situation: what they could do next, or whom to see.",
    )
