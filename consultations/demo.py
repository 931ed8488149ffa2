"""Demo data for ``seed_demo``: a published questionnaire and clinical templates for every
demo category, and the demo clinician's profile with verified licenses. Idempotent: a
second run finds everything by its natural key and changes nothing.

Written for this project; the ICD-10 lists come from ``data/icd10-examples.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from marketplace.models import Category

from .models import CategoryClinicalTemplate, ClinicianProfile, Credential, License, Questionnaire

DEMO_CLINICIAN_EMAIL = "clinician@demo.flexlmn.example"
DEMO_OPS_EMAIL = "ops@demo.flexlmn.example"
# A made-up NPI with a valid check digit (the example number in CMS's NPI check-digit guide).
DEMO_NPI = "1234567893"
DEMO_LICENSES = (
    ("CA", "A 184523"),
    ("TX", "T7741"),
    ("NY", "298114"),
    ("FL", "ME 151902"),
    ("WA", "MD 61047335"),
    ("IL", "036.158842"),
    ("PA", "MD 482917"),
    ("OH", "35.142876"),
    ("GA", "84215"),
    ("NC", "2019-01873"),
    ("MA", "287364"),
    ("CO", "DR.0068123"),
    ("AZ", "61782"),
    ("NJ", "25MA11842300"),
    ("VA", "0101298765"),
    ("AL", "MD.41258"),
)

# A copy of shared/data/icd10-examples.csv: real ICD-10-CM codes that commonly fit each demo category.
ICD10_CSV = Path(__file__).resolve().parent / "data" / "icd10-examples.csv"


def _choices(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"value": value, "label": label} for value, label in pairs]


@dataclass(frozen=True)
class DemoCategory:
    slug: str
    title: str
    introduction: str
    conditions: tuple[tuple[str, str], ...]
    symptoms: tuple[tuple[str, str], ...]
    treatments: tuple[tuple[str, str], ...]
    safety_label: str
    safety_help: str
    safety_message: str
    frequency: str
    duration: str
    justification: str
    extra_questions: tuple[dict[str, Any], ...] = ()


NONE_OF_THESE = ("none", "None of these")
NO_CONDITION_MESSAGE = (
    "A Letter of Medical Necessity connects a product to a condition that a clinician has diagnosed or is "
    "treating, and none of the listed conditions apply to you, so we have ended this consultation. Nothing has "
    "been charged. If a clinician diagnoses one of these conditions later, you are welcome to start again."
)


def _questions(demo: DemoCategory) -> list[dict[str, Any]]:
    conditions_section, life, history, safety = (
        "Conditions and symptoms",
        "Daily life",
        "History and treatments",
        "Medications and safety",
    )
    return [
        {
            "key": "conditions",
            "label": "Which of these conditions has a clinician diagnosed, or is treating you for?",
            "help_text": "Choose every one that applies.",
            "type": "multi_choice",
            "section": conditions_section,
            "choices": _choices(*demo.conditions, NONE_OF_THESE),
            "disqualify": ["none"],
            "disqualify_message": NO_CONDITION_MESSAGE,
        },
        {
            "key": "symptoms",
            "label": "Which symptoms do you have now?",
            "type": "multi_choice",
            "section": conditions_section,
            "choices": _choices(*demo.symptoms),
        },
        {
            "key": "duration",
            "label": "How long have you had these symptoms?",
            "type": "single_choice",
            "section": conditions_section,
            "choices": _choices(
                ("under_3_months", "Less than 3 months"),
                ("3_to_12_months", "3 to 12 months"),
                ("1_to_5_years", "1 to 5 years"),
                ("over_5_years", "More than 5 years"),
            ),
        },
        *demo.extra_questions,
        {
            "key": "daily_impact",
            "label": "How much does your condition limit your daily life?",
            "type": "single_choice",
            "section": life,
            "choices": _choices(
                ("mild", "A little: I notice it but manage most things"),
                ("moderate", "Moderately: it limits work, sleep or activities on many days"),
                ("severe", "A lot: it limits me most days"),
            ),
        },
        {
            "key": "impact_details",
            "label": "In a sentence or two, what does it stop you from doing?",
            "help_text": "For example: walking more than 20 minutes, sleeping through the night, lifting my child.",
            "type": "text",
            "section": life,
            "max_length": 600,
        },
        {
            "key": "diagnosed_by",
            "label": "Who diagnosed the condition?",
            "type": "single_choice",
            "section": history,
            "choices": _choices(
                ("primary_care", "My primary care clinician"),
                ("specialist", "A specialist"),
                ("urgent_care", "Urgent care or a hospital"),
                ("not_yet", "No one yet: I am describing my symptoms"),
            ),
        },
        {
            "key": "treatments_tried",
            "label": "What have you already tried?",
            "help_text": "Choose every one that applies.",
            "type": "multi_choice",
            "section": history,
            "choices": _choices(*demo.treatments, ("nothing_yet", "Nothing yet")),
        },
        {
            "key": "history",
            "label": "Anything else about your history with this condition?",
            "help_text": "Optional: when it started, how it changed, what helped or did not.",
            "type": "text",
            "section": history,
            "required": False,
            "max_length": 800,
        },
        {
            "key": "medications",
            "label": "Which medications and supplements do you take?",
            "help_text": "Name and dose if you know it. Write \u201cnone\u201d if you take none.",
            "type": "text",
            "section": safety,
            "max_length": 600,
        },
        {
            "key": "allergies",
            "label": "Do you have allergies to medications or materials (for example latex or adhesives)?",
            "type": "text",
            "section": safety,
            "required": False,
            "max_length": 300,
        },
        {
            "key": "safety",
            "label": demo.safety_label,
            "help_text": demo.safety_help,
            "type": "yes_no",
            "section": safety,
            "disqualify": ["yes"],
            "disqualify_message": demo.safety_message,
        },
    ]


CATEGORIES: tuple[DemoCategory, ...] = (
    DemoCategory(
        slug="fitness-exercise",
        title="Fitness and exercise consultation",
        introduction="These questions help a clinician decide whether exercise equipment or a training program is part of treating a diagnosed condition.",
        conditions=(
            ("obesity", "Obesity or overweight"),
            ("hypertension", "High blood pressure"),
            ("diabetes", "Type 2 diabetes or prediabetes"),
            ("cholesterol", "High cholesterol"),
            ("back_pain", "Chronic low back pain"),
            ("knee_oa", "Osteoarthritis of the knee"),
            ("osteoporosis", "Osteoporosis or low bone density"),
            ("depression", "Depression"),
        ),
        symptoms=(
            ("fatigue", "Tiring easily"),
            ("breathless", "Short of breath with light activity"),
            ("joint_pain", "Joint pain or stiffness"),
            ("back_pain", "Back pain"),
            ("low_mood", "Low mood"),
            ("weight_gain", "Weight gain"),
        ),
        treatments=(
            ("diet", "Diet changes"),
            ("gym", "A gym membership or walking program"),
            ("physical_therapy", "Physical therapy"),
            ("medication", "Medication for the condition"),
        ),
        safety_label="Has a clinician told you not to exercise, or do you get chest pain, fainting or severe breathlessness when active?",
        safety_help="Answer yes if any of these apply.",
        safety_message="Chest pain, fainting, severe breathlessness or a clinician's advice not to exercise need an in-person check before starting an exercise program, so we have ended this consultation. Please see your doctor; nothing has been charged. If it is severe or sudden, call 911.",
        frequency="3 to 5 sessions a week, 30 to 45 minutes each, increasing as tolerated",
        duration="12 months",
        justification=(
            "The patient has {answer:conditions}, which limits daily life ({answer:daily_impact}). Regular, structured "
            "exercise is a first-line treatment for this condition. {products} makes a consistent home program possible "
            "for this patient, who has tried {answer:treatments_tried}. The equipment is recommended to treat the "
            "diagnosed condition and would not otherwise be needed for general health."
        ),
    ),
    DemoCategory(
        slug="nutrition-supplements",
        title="Nutrition and supplements consultation",
        introduction="These questions help a clinician decide whether a supplement or nutrition product treats a diagnosed condition.",
        conditions=(
            ("vitamin_d", "Vitamin D deficiency"),
            ("iron_anemia", "Iron-deficiency anemia"),
            ("ibs", "Irritable bowel syndrome"),
            ("gerd", "Acid reflux (GERD)"),
            ("celiac", "Celiac disease"),
            ("menopause", "Menopause symptoms"),
            ("pcos", "Polycystic ovary syndrome (PCOS)"),
            ("anxiety", "Anxiety"),
            ("dehydration", "Recurring dehydration from a medical condition"),
        ),
        symptoms=(
            ("fatigue", "Tiredness"),
            ("bloating", "Bloating or stomach pain"),
            ("heartburn", "Heartburn"),
            ("hot_flashes", "Hot flashes"),
            ("worry", "Constant worry or racing thoughts"),
            ("dizziness", "Dizziness or headaches"),
        ),
        treatments=(
            ("diet_change", "Diet changes"),
            ("prescription", "Prescription medication"),
            ("otc_supplements", "Over-the-counter supplements"),
            ("therapy", "Counseling or therapy"),
        ),
        safety_label="Do you have kidney disease, or are you on dialysis?",
        safety_help="Some supplements and electrolytes are unsafe with kidney disease.",
        safety_message="Supplements and electrolyte products can be unsafe with kidney disease, so these need your kidney specialist's advice rather than an online consultation. We have ended this consultation; nothing has been charged.",
        frequency="Daily, as directed on the label",
        duration="12 months",
        justification=(
            "The patient has {answer:conditions} with {answer:symptoms}. {products} is recommended as part of the "
            "treatment of this diagnosed condition, alongside {answer:treatments_tried}, to correct or manage it. "
            "It is not intended for general health."
        ),
    ),
    DemoCategory(
        slug="sleep-home-wellness",
        title="Sleep and home wellness consultation",
        introduction="These questions help a clinician decide whether a sleep or stress device is part of treating a diagnosed condition.",
        conditions=(
            ("insomnia", "Insomnia"),
            ("sleep_apnea", "Obstructive sleep apnea (diagnosed and treated)"),
            ("snoring", "Snoring"),
            ("restless_legs", "Restless legs syndrome"),
            ("menopause", "Menopause night sweats or hot flashes"),
            ("ptsd", "Post-traumatic stress disorder"),
            ("anxiety", "Generalized anxiety disorder"),
        ),
        symptoms=(
            ("falling_asleep", "Trouble falling asleep"),
            ("waking", "Waking during the night"),
            ("early_waking", "Waking too early"),
            ("daytime_sleepiness", "Sleepiness during the day"),
            ("night_sweats", "Night sweats or overheating"),
            ("snoring", "Loud snoring"),
        ),
        treatments=(
            ("sleep_hygiene", "Sleep hygiene changes"),
            ("cbti", "Cognitive behavioral therapy for insomnia"),
            ("sleep_meds", "Sleep medication"),
            ("cpap", "CPAP or an oral appliance"),
        ),
        safety_label="Have you fallen asleep while driving, or has someone seen you stop breathing in your sleep without a sleep study since?",
        safety_help="These can be signs of untreated sleep apnea.",
        safety_message="Falling asleep while driving or pauses in breathing during sleep need a sleep study before anything else is recommended, so we have ended this consultation. Please talk to your doctor soon; nothing has been charged.",
        frequency="Nightly",
        duration="12 months",
        extra_questions=(
            {
                "key": "sleep_hours",
                "label": "About how many hours do you sleep on a typical night?",
                "type": "number",
                "section": "Conditions and symptoms",
                "min": 0,
                "max": 16,
            },
        ),
        justification=(
            "The patient has {answer:conditions}, sleeping about {answer:sleep_hours} hours a night, with "
            "{answer:symptoms}. Poor sleep is limiting daily life ({answer:daily_impact}). {products} is recommended "
            "to treat the diagnosed sleep condition as part of a treatment plan that has included "
            "{answer:treatments_tried}."
        ),
    ),
    DemoCategory(
        slug="clothing-footwear",
        title="Clothing and footwear consultation",
        introduction="These questions help a clinician decide whether supportive clothing or footwear treats a diagnosed condition.",
        conditions=(
            ("flat_feet", "Flat feet"),
            ("plantar_fasciitis", "Plantar fasciitis"),
            ("neuropathy", "Diabetic nerve damage in the feet"),
            ("kyphosis", "Rounded upper back (kyphosis) or poor posture diagnosed by a clinician"),
            ("neck_pain", "Chronic neck pain"),
            ("back_pain", "Chronic low back pain"),
            ("ankle_instability", "Ankle instability"),
            ("hyperhidrosis", "Excessive sweating (hyperhidrosis)"),
            ("seizures", "Seizures with a risk of head injury"),
            ("falls", "Repeated falls"),
        ),
        symptoms=(
            ("foot_pain", "Foot or heel pain"),
            ("numbness", "Numbness or tingling in the feet"),
            ("back_neck_pain", "Back or neck pain"),
            ("ankle_rolling", "Ankles that roll or give way"),
            ("sweating", "Heavy sweating"),
        ),
        treatments=(
            ("insoles", "Over-the-counter insoles"),
            ("physical_therapy", "Physical therapy"),
            ("bracing", "A brace or support"),
            ("pain_relief", "Pain relief medication"),
        ),
        safety_label="Do you have an open sore or ulcer on your foot, or a sudden change in the color of your foot?",
        safety_help="These need to be seen in person, soon.",
        safety_message="An open sore, ulcer or sudden color change on the foot needs an in-person exam soon, especially with diabetes, so we have ended this consultation. Please see your doctor or urgent care; nothing has been charged.",
        frequency="Daily wear during activity",
        duration="12 months",
        justification=(
            "The patient has {answer:conditions} causing {answer:symptoms}. Supportive {products} is recommended to "
            "treat this diagnosed condition, reduce pain and prevent injury, after {answer:treatments_tried}. It is "
            "prescribed for the condition, not as ordinary clothing."
        ),
    ),
    DemoCategory(
        slug="mom-baby-child",
        title="Mom, baby and child consultation",
        introduction="These questions help a clinician decide whether postpartum, lactation or baby-care products treat a diagnosed condition.",
        conditions=(
            ("infant_eczema", "My baby's eczema, diagnosed by their pediatrician"),
            ("atopic_dermatitis", "Atopic dermatitis"),
            ("lactation", "Difficulty breastfeeding or low milk supply"),
            ("diastasis", "Abdominal separation after pregnancy (diastasis recti)"),
            ("incontinence", "Leaking urine when coughing or lifting (stress incontinence)"),
            ("prolapse", "Pelvic organ prolapse"),
            ("feeding_problem", "My newborn's feeding problem"),
        ),
        symptoms=(
            ("itchy_skin", "Dry, itchy or inflamed skin"),
            ("feeding_pain", "Pain or difficulty feeding"),
            ("core_weakness", "Weak core or back pain"),
            ("leaking", "Leaking urine"),
            ("pelvic_pressure", "Pelvic heaviness or pressure"),
        ),
        treatments=(
            ("emollients", "Moisturizers or gentle washes"),
            ("lactation_consultant", "A lactation consultant"),
            ("pelvic_pt", "Pelvic floor physical therapy"),
            ("pediatrician", "Treatment from our pediatrician"),
        ),
        safety_label="Right now, do you have heavy bleeding, a fever, or thoughts of harming yourself or your baby?",
        safety_help="If so, please get help now: call 911, or call or text 988.",
        safety_message="What you describe needs care right away, so we have ended this consultation. Please call 911 or go to the nearest emergency room; for thoughts of harming yourself or your baby you can also call or text 988, any time. Nothing has been charged.",
        frequency="Daily, as directed",
        duration="12 months",
        justification=(
            "The patient reports {answer:conditions} with {answer:symptoms}. {products} is recommended to treat this "
            "diagnosed condition as part of a plan that has included {answer:treatments_tried}, and would not "
            "otherwise be needed."
        ),
    ),
    DemoCategory(
        slug="skin-sun-care",
        title="Skin and sun care consultation",
        introduction="These questions help a clinician decide whether sun protection or skin treatment is part of treating a diagnosed condition.",
        conditions=(
            ("actinic_keratosis", "Actinic keratosis (sun damage)"),
            ("melanoma_history", "Past melanoma"),
            ("skin_cancer_history", "Past basal or squamous cell skin cancer"),
            ("sun_allergy", "Sun allergy (polymorphous light eruption)"),
            ("lupus", "Lupus"),
            ("acne", "Acne"),
            ("rosacea", "Rosacea"),
            ("vitiligo", "Vitiligo"),
            ("psoriasis", "Psoriasis"),
        ),
        symptoms=(
            ("rough_patches", "Rough or scaly patches"),
            ("sun_rash", "Rash after sun exposure"),
            ("redness", "Redness or flushing"),
            ("breakouts", "Breakouts"),
            ("white_patches", "White patches"),
        ),
        treatments=(
            ("sunscreen", "Daily sunscreen"),
            ("prescription_cream", "Prescription creams"),
            ("procedures", "Procedures (freezing, laser, surgery)"),
            ("dermatologist", "Regular dermatologist visits"),
        ),
        safety_label="Do you have a mole or spot that is changing, bleeding or not healing?",
        safety_help="A changing spot needs a dermatologist's exam.",
        safety_message="A mole or spot that is changing, bleeding or not healing needs a dermatologist's exam, so we have ended this consultation. Please book one soon; nothing has been charged.",
        frequency="Daily, reapplied every 2 hours in the sun",
        duration="12 months",
        justification=(
            "The patient has {answer:conditions}. Sun exposure worsens this condition or raises the risk of its "
            "return. {products} is recommended as part of its treatment and prevention, alongside "
            "{answer:treatments_tried}."
        ),
    ),
    DemoCategory(
        slug="recovery-pain-relief",
        title="Recovery and pain relief consultation",
        introduction="These questions help a clinician decide whether a recovery or pain-relief device treats a diagnosed condition.",
        conditions=(
            ("myalgia", "Ongoing muscle pain"),
            ("fibromyalgia", "Fibromyalgia"),
            ("back_pain", "Chronic low back pain"),
            ("neck_pain", "Chronic neck pain"),
            ("spasms", "Back muscle spasms"),
            ("osteoarthritis", "Osteoarthritis"),
            ("joint_pain", "Joint pain"),
            ("migraine", "Migraine"),
            ("venous_insufficiency", "Chronic venous insufficiency"),
            ("pvd", "Peripheral vascular disease"),
        ),
        symptoms=(
            ("muscle_pain", "Muscle pain or tightness"),
            ("stiffness", "Stiffness"),
            ("swelling", "Leg swelling or heaviness"),
            ("headaches", "Headaches"),
            ("poor_sleep", "Pain that disturbs sleep"),
        ),
        treatments=(
            ("physical_therapy", "Physical therapy"),
            ("massage", "Massage"),
            ("pain_medication", "Pain medication"),
            ("compression", "Compression garments"),
        ),
        safety_label="Do you have a blood clot now, or sudden swelling and pain in one leg?",
        safety_help="Massage and compression devices are unsafe with a blood clot.",
        safety_message="A blood clot, or sudden swelling and pain in one leg, needs medical care right away, and massage or compression devices could be dangerous, so we have ended this consultation. Please see a doctor today or call 911; nothing has been charged.",
        frequency="Daily, 10 to 15 minutes per area",
        duration="12 months",
        extra_questions=(
            {
                "key": "pain_score",
                "label": "On a typical day, how bad is the pain from 0 (none) to 10 (the worst)?",
                "type": "number",
                "section": "Conditions and symptoms",
                "min": 0,
                "max": 10,
            },
        ),
        justification=(
            "The patient has {answer:conditions} with pain of {answer:pain_score}/10 on a typical day that limits "
            "daily life ({answer:daily_impact}). {products} is recommended to relieve pain and restore function as "
            "part of treating the diagnosed condition, after {answer:treatments_tried}."
        ),
    ),
)


def _icd10_by_category() -> dict[str, list[dict[str, str]]]:
    codes: dict[str, list[dict[str, str]]] = {}
    with ICD10_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            codes.setdefault(row["category"], []).append({"code": row["code"], "description": row["description"]})
    return codes


def _category(slug: str) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is not None:
        return category
    from marketplace.demo import CATEGORIES as SHOP_CATEGORIES

    for ordering, (shop_slug, name, description) in enumerate(SHOP_CATEGORIES, start=1):
        if shop_slug == slug:
            return Category.objects.create(slug=slug, name=name, description=description, ordering=ordering)
    raise LookupError(f"Unknown demo category {slug!r}")


HISTORY_TEMPLATE = (
    "Reports {answer:conditions} (diagnosed by: {answer:diagnosed_by}), symptoms for {answer:duration}: "
    "{answer:symptoms}. Daily life: {answer:impact_details} Tried: {answer:treatments_tried}. "
    "Medications: {answer:medications}. Allergies: {answer:allergies}."
)


def _seed_category(demo: DemoCategory, icd10: dict[str, list[dict[str, str]]], ops: User | None) -> None:
    category = _category(demo.slug)
    if not Questionnaire.objects.filter(category=category).exists():
        Questionnaire.objects.create(
            category=category,
            version=1,
            title=demo.title,
            introduction=demo.introduction,
            questions=_questions(demo),
            published_at=timezone.now(),
            published_by=ops,
        )
    if not CategoryClinicalTemplate.objects.filter(category=category).exists():
        CategoryClinicalTemplate.objects.create(
            category=category,
            icd10_codes=icd10[category.name],
            diagnosis_template="{answer:conditions}",
            history_template=HISTORY_TEMPLATE,
            treatment_frequency_template=demo.frequency,
            treatment_duration_template=demo.duration,
            justification_template=demo.justification,
        )


def _seed_clinician(ops: User | None) -> int:
    user = User.objects.filter(email=DEMO_CLINICIAN_EMAIL, role=Role.CLINICIAN).first()
    if user is None:
        return 0
    profile = ClinicianProfile.objects.filter(user=user).first()
    if profile is None:
        profile = ClinicianProfile.objects.create(
            user=user,
            legal_name="Avery Chen",
            credential=Credential.MD,
            npi=DEMO_NPI,
            phone="+1 (555) 010-0187",
            contact_email="avery.chen@clinicians.flexlmn.example",
            typed_signature="/s/ Avery Chen, MD",
        )
    expires_on = timezone.localdate() + timedelta(days=730)
    for state, number in DEMO_LICENSES:
        if not License.objects.filter(clinician=profile, state=state).exists():
            License.objects.create(
                clinician=profile,
                state=state,
                number=number,
                expires_on=expires_on,
                verified_by=ops,
                verified_at=timezone.now(),
            )
    return len(DEMO_LICENSES)


@transaction.atomic
def seed(stdout: TextIO) -> None:
    """Questionnaires, clinical templates and the demo clinician; later runs change nothing."""
    icd10 = _icd10_by_category()
    ops = User.objects.filter(email=DEMO_OPS_EMAIL).first()
    for demo in CATEGORIES:
        _seed_category(demo, icd10, ops)
    states = _seed_clinician(ops)
    stdout.write(
        f"Consultations: a published questionnaire and clinical templates for {len(CATEGORIES)} categories; "
        f"the demo clinician (Avery Chen, MD, NPI {DEMO_NPI}) holds verified licenses in {states} states."
    )
