"""Consultation pages: the patient's intake and status page, and the clinician dashboard."""

from __future__ import annotations

from .clinician import case_approve, case_ask, case_claim, case_deny, case_detail, clinician_queue, review_next
from .patient import consultation_detail, consultation_reply, consultation_step

__all__ = [
    "case_approve",
    "case_ask",
    "case_claim",
    "case_deny",
    "case_detail",
    "clinician_queue",
    "consultation_detail",
    "consultation_reply",
    "consultation_step",
    "review_next",
]
