"""Letter factories: an approved consultation and its letter, with made-up people.

A letter made here has every snapshot a real one has, so it renders; tests
that need the real path (approval → letter) use the services instead.
"""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from consultations.models import Consultation, ConsultationKind, ConsultationStatus
from letters.models import LETTER_VALID_MONTHS, Letter, LetterRequestFee, add_months
from marketplace.tests.factories import CategoryFactory

DIAGNOSIS = "Chronic insomnia with early-morning awakening"
HISTORY = "Wakes at 3 am most nights for two years; sleep hygiene and melatonin did not help."
JUSTIFICATION = "A cooling sleep pad addresses the nocturnal overheating that drives the awakenings."
PLAN = [{"product_or_category": "Cooling Sleep Pad", "frequency": "Nightly", "duration": "12 months"}]


class ApprovedConsultationFactory(factory.django.DjangoModelFactory[Consultation]):
    class Meta:
        model = Consultation

    patient = factory.SubFactory(UserFactory)
    kind = ConsultationKind.STANDALONE
    status = ConsultationStatus.APPROVED
    legal_name = "Sam Q. Shopper"
    date_of_birth = date(1988, 4, 12)
    sex = "female"
    state = "TX"
    diagnosis = DIAGNOSIS
    icd10_code = "G47.00"
    icd10_description = "Insomnia, unspecified"
    relevant_history = HISTORY
    treatment_plan = factory.LazyFunction(lambda: [dict(item) for item in PLAN])
    justification = JUSTIFICATION
    decided_by = factory.SubFactory(UserFactory, role=Role.CLINICIAN)
    decided_at = factory.LazyFunction(timezone.now)


class LetterFactory(factory.django.DjangoModelFactory[Letter]):
    class Meta:
        model = Letter
        skip_postgeneration_save = True

    consultation = factory.SubFactory(ApprovedConsultationFactory)
    patient = factory.LazyAttribute(lambda o: o.consultation.patient)
    clinician = factory.LazyAttribute(lambda o: o.consultation.decided_by)
    patient_legal_name = factory.LazyAttribute(lambda o: o.consultation.legal_name)
    patient_date_of_birth = factory.LazyAttribute(lambda o: o.consultation.date_of_birth)
    patient_state = "TX"
    clinician_name = "Avery Chen"
    clinician_credential = "MD"
    clinician_license_number = "TX-Q4821"
    clinician_license_state = "TX"
    clinician_npi = "1588667638"
    clinician_phone = "+1 (555) 010-0199"
    clinician_email = "avery.chen@clinicians.example.test"
    clinician_signature_text = "/s/ Avery Chen, MD"
    diagnosis = DIAGNOSIS
    icd10_code = "G47.00"
    icd10_description = "Insomnia, unspecified"
    relevant_history = HISTORY
    treatment_plan = factory.LazyFunction(lambda: [dict(item) for item in PLAN])
    justification = JUSTIFICATION
    covered_product_names = factory.LazyFunction(lambda: ["Cooling Sleep Pad"])
    issued_at = factory.LazyFunction(timezone.now)
    valid_until = factory.LazyAttribute(lambda o: add_months(timezone.localdate(o.issued_at), LETTER_VALID_MONTHS))

    @factory.post_generation
    def categories(obj: Letter, create: bool, extracted: list[object] | None, **kwargs: object) -> None:
        if create:
            obj.covered_categories.set(extracted if extracted is not None else [CategoryFactory(name="Sleep")])


def expired_letter(**kwargs: object) -> Letter:
    issued = timezone.now() - timedelta(days=400)
    return LetterFactory(issued_at=issued, valid_until=timezone.localdate() - timedelta(days=35), **kwargs)


class LetterRequestFeeFactory(factory.django.DjangoModelFactory[LetterRequestFee]):
    class Meta:
        model = LetterRequestFee

    category = factory.SubFactory(CategoryFactory)
    amount_cents = 2_900
