"""Letter PDF render time against a plain Django view, measured in the same run.

    .venv/bin/python benchmarks/letters_render.py            # 200 renders, 200 baseline requests
    .venv/bin/python benchmarks/letters_render.py -n 50
    .venv/bin/python benchmarks/letters_render.py --write /tmp/demo-letter.pdf [--long] [--signature-image]

Budget (docs/LETTERS.md, shared/DESIGN.md): median render under 50 ms. The
baseline is the median time of a plain Django view returning a short string
through the test client (the whole middleware stack, no database), so the
ratio says how many "trivial requests" one letter costs on this machine.
The first render is reported apart: it also loads the vendored fonts, which a
worker does once per process. No database is needed. Exits 1 when the median
is over budget. ``--write`` renders the demo letter to a file instead (used to
look at the layout with ``pdftoppm -png -r 80``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flexlmn.settings.test")

import django

django.setup()

from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from letters.content import (  # noqa: E402
    ClinicianSnapshot,
    CompanyDetails,
    LetterContent,
    PatientSnapshot,
    TreatmentItem,
)
from letters.pdf import LetterRenderer  # noqa: E402

BUDGET_MS = 50.0
# A 43-character token: 256 bits from secrets.token_urlsafe(32), as letters issue them.
DEMO_TOKEN = "q8ZtN3vJx0LmR5cW2yHkP7aD4sFgB1eUoTi9VnQwXr6"  # noqa: S105 (made up, not a secret)


def plain_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("plain/", plain_view)]


def _signature_png() -> bytes:
    """A made-up handwritten signature image: the name in the vendored handwriting face, drawn with Pillow."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(Path(__file__).resolve().parent.parent / "static/letters/fonts/Kristi.ttf"), 150)
    image = Image.new("RGBA", (720, 200), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.text((20, 10), "Avery Chen", font=font, fill=(22, 38, 96, 255))
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def demo_letter(*, long: bool = False, signature_image: bool = False) -> LetterContent:
    """A realistic letter for made-up people: Jordan Rivera, reviewed by Avery Chen, MD."""
    justification = (
        "Ms. Rivera’s chronic insomnia is driven in part by nocturnal overheating: she reports waking "
        "drenched two to four times a night, and sleep hygiene measures and a temperature-controlled bedroom "
        "have not reduced the awakenings. A bed cooling system that holds the sleep surface at a set "
        "temperature addresses this mechanism directly and is a recognised adjunct to cognitive behavioural "
        "therapy for insomnia.\n\n"
        "Objective sleep tracking with a validated wearable ring lets the patient and her clinicians measure "
        "total sleep time, awakenings and sleep efficiency while the plan is followed, and adjust it at the "
        "three-month review. Without the condition described above the patient would not buy these products."
    )
    if long:
        justification += "\n\n" + "\n\n".join(
            f"Follow-up note {n}: the patient will keep a sleep diary alongside the device data, recording bedtime, "
            "wake time, estimated awakenings, caffeine and alcohol intake, and daytime sleepiness on the Epworth "
            "scale. The diary and the ring's nightly summaries are reviewed together so that changes in the "
            "cooling schedule can be judged against measured sleep efficiency rather than recall alone."
            for n in range(1, 9)
        )
    return LetterContent(
        letter_id="0f3c2a9e-5b7d-4c1e-9a8f-2d6b4e1c7a35",
        version=1,
        issued_on=date(2026, 3, 2),
        valid_until=date(2027, 3, 2),
        patient=PatientSnapshot(legal_name="Jordan Rivera", date_of_birth=date(1988, 6, 14), state="TX"),
        clinician=ClinicianSnapshot(
            name="Avery Chen",
            credential="MD",
            license_number="TX-Q4821",
            license_state="TX",
            npi="1588667638",
            phone="+1 (555) 010-0199",
            email="avery.chen@clinicians.flexlmn.example",
            signature_text="Avery Chen, MD",
            signature_image=_signature_png() if signature_image else None,
        ),
        diagnosis="Chronic insomnia with frequent night-time awakenings",
        icd10_code="G47.00",
        icd10_description="Insomnia, unspecified",
        relevant_history=(
            "Difficulty staying asleep for more than two years, four or more nights a week, with daytime fatigue "
            "affecting work. Tried sleep hygiene education, a fixed sleep schedule and over-the-counter melatonin "
            "(3 mg, eight weeks) without lasting benefit. No diagnosed sleep apnea; no current sedative medication."
        ),
        treatment_plan=[
            TreatmentItem(
                product_or_category="SleepMe Dock Pro bed cooling system (sleep temperature regulation)",
                frequency="Nightly, during sleep",
                duration="12 months",
            ),
            TreatmentItem(
                product_or_category="Oura Ring 4 (sleep monitoring wearable)",
                frequency="Worn continuously; reviewed weekly",
                duration="12 months",
            ),
        ],
        covered_categories=["Sleep", "Wearables"],
        justification=justification,
        verification_token=DEMO_TOKEN,
        verification_url=f"https://flexlmn.example/verify/{DEMO_TOKEN}/",
        company=CompanyDetails(
            name="FlexLMN",
            address="FlexLMN, 100 Example Street, Suite 200, Austin, TX 78701",
            phone="+1 (555) 010-0142",
            email="support@flexlmn.example",
            website="https://flexlmn.example",
        ),
    )


def _timed(fn: Callable[[], object], runs: int, deadline: float) -> list[float]:
    """Wall-clock milliseconds per call, stopping early at ``deadline`` (a time.perf_counter() value).
    benchmarks/letters.py uses it too."""
    return _timed_with_cpu(fn, runs, deadline)[0]


def _timed_with_cpu(fn: Callable[[], object], runs: int, deadline: float) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per call, stopping early at ``deadline``
    (a time.perf_counter() value) to bound the run."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        if time.perf_counter() > deadline:
            break
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--runs", type=int, default=200, help="renders and baseline requests (default 200)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop each loop after this long")
    parser.add_argument("--write", type=Path, help="write the demo letter PDF here and exit")
    parser.add_argument("--long", action="store_true", help="with --write: a justification that runs onto page 2")
    parser.add_argument("--signature-image", action="store_true", help="with --write: a signature image")
    args = parser.parse_args()

    if args.write:
        content = demo_letter(long=args.long, signature_image=args.signature_image)
        filename, _, data = LetterRenderer().generate(content)
        args.write.write_bytes(data)
        print(f"wrote {args.write} ({len(data)} bytes; download name {filename})")
        return 0

    content = demo_letter()
    start = time.perf_counter()
    data = LetterRenderer().generate(content)[2]
    cold_ms = (time.perf_counter() - start) * 1000

    render_times, render_cpu = _timed_with_cpu(
        lambda: LetterRenderer().generate(content), args.runs, time.perf_counter() + args.max_seconds
    )

    client = Client()
    with override_settings(ROOT_URLCONF=__name__):
        assert client.get("/plain/").status_code == 200
        baseline_times = _timed(lambda: client.get("/plain/"), args.runs, time.perf_counter() + args.max_seconds)

    render_median = statistics.median(render_times)
    render_p95 = statistics.quantiles(render_times, n=20)[-1] if len(render_times) >= 20 else max(render_times)
    baseline_median = statistics.median(baseline_times)
    within = render_median < BUDGET_MS
    print(f"letter PDF: {len(data)} bytes, first render {cold_ms:.1f} ms (loads fonts)")
    print(
        f"render:   median {render_median:.2f} ms, p95 {render_p95:.2f} ms over {len(render_times)} renders "
        f"(CPU time median {statistics.median(render_cpu):.2f} ms; far below the wall time means a busy machine)"
    )
    print(f"load:     {' '.join(f'{value:.2f}' for value in os.getloadavg())} (1, 5, 15 min) on {os.cpu_count()} CPUs")
    print(f"baseline: median {baseline_median:.3f} ms over {len(baseline_times)} plain-view requests (test client)")
    print(f"ratio:    {render_median / baseline_median:.1f}x the plain view")
    print(f"budget:   median < {BUDGET_MS:.0f} ms: {'OK' if within else 'OVER BUDGET'}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
