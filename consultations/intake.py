"""The steps of an intake, derived from the questions a consultation was asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import Consultation

DETAILS = "details"
QUESTIONS = "questions"
CONSENT = "consent"


@dataclass(frozen=True)
class IntakeStep:
    index: int
    kind: str
    title: str
    questionnaire_id: str = ""
    category_name: str = ""
    questions: list[dict[str, Any]] = field(default_factory=list)


def intake_steps(consultation: Consultation) -> list[IntakeStep]:
    """Patient details, one step per section of each questionnaire, then consent."""
    steps = [IntakeStep(index=0, kind=DETAILS, title="About you")]
    for block in consultation.questions_snapshot:
        sections: dict[str, list[dict[str, Any]]] = {}
        for question in block["questions"]:
            sections.setdefault(question["section"], []).append(question)
        for section, questions in sections.items():
            steps.append(
                IntakeStep(
                    index=len(steps),
                    kind=QUESTIONS,
                    title=section,
                    questionnaire_id=block["questionnaire"],
                    category_name=block["category_name"],
                    questions=questions,
                )
            )
    steps.append(IntakeStep(index=len(steps), kind=CONSENT, title="Consent"))
    return steps


def progress_percent(step: IntakeStep, total: int) -> int:
    """Progress through the intake, rounded to 5% (the CSS has a class per 5%)."""
    if total <= 1:
        return 100
    percent = round(100 * (step.index + 1) / total)
    return min(100, max(5, 5 * round(percent / 5)))
