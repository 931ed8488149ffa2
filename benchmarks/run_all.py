"""Run every benchmark script in benchmarks/ as a subprocess and print one table of their results.

    .venv/bin/python benchmarks/run_all.py            # every script, its default run counts
    .venv/bin/python benchmarks/run_all.py --quick    # fewer runs per script (a smoke run)
    .venv/bin/python benchmarks/run_all.py --only catalog letters_render

Each script measures its pages against a baseline in the same run (see _common.py) and
prints its own report; this runner collects each script's rows (page, median, p90, ratio
to the baseline, queries) and its summary lines (the letter render and delivery medians)
into one table, then prints each script's full output below it. Every script runs with a
time limit; the exit status is 1 when a script failed or reported a missed budget.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"run_all.py"}
# Fewer runs for --quick, per script (flags each script's argparse accepts).
QUICK_ARGS: dict[str, list[str]] = {
    "catalog": ["--runs", "40"],
    "clinician": ["--runs", "40"],
    "pages": ["--runs", "40"],
    "letters_render": ["-n", "40"],
    "letters": ["-n", "3", "--renders", "30"],
}
TIMEOUT_SECONDS = 1_200
# A row of _common.print_table: label, median ms, p90 ms, ratio×, cpu ms, db ms, queries.
ROW = re.compile(
    r"^(?P<label>\S.*?)\s{2,}(?P<median>\d+\.\d+)\s+(?P<p90>\d+\.\d+)\s+(?P<ratio>\d+\.\d+)×"
    r"\s+[\d.]+\s+[\d.]+\s+(?P<queries>\d+)"
)
SUMMARY = re.compile(r"^(render|approval|baseline|ratio)\b.*(median|x the)", re.IGNORECASE)


@dataclass
class Outcome:
    script: str
    returncode: int
    seconds: float
    output: str
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def scripts(only: list[str] | None) -> list[Path]:
    found = sorted(p for p in HERE.glob("*.py") if not p.name.startswith("_") and p.name not in SKIP)
    if only:
        found = [p for p in found if p.stem in only]
    return found


def run(script: Path, *, quick: bool) -> Outcome:
    args = [sys.executable, str(script), *(QUICK_ARGS.get(script.stem, []) if quick else [])]
    started = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter running our own scripts
            args, cwd=HERE.parent, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env=os.environ.copy()
        )
        returncode, output = done.returncode, done.stdout + (f"\n[stderr]\n{done.stderr}" if done.returncode else "")
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        returncode, output = 124, f"timed out after {TIMEOUT_SECONDS} s\n{partial}"
    outcome = Outcome(script.stem, returncode, time.perf_counter() - started, output)
    for line in output.splitlines():
        if match := ROW.match(line):
            outcome.rows.append((match["label"], match["median"], match["p90"], match["ratio"] + "×", match["queries"]))
        elif SUMMARY.match(line.strip()):
            outcome.notes.append(" ".join(line.split()))
    return outcome


def print_summary(outcomes: list[Outcome]) -> None:
    load = os.getloadavg()
    print(f"FlexLMN benchmarks: {os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    print()
    width = max([len(r[0]) for o in outcomes for r in o.rows] + [30]) + 2
    header = f"{'script':<16}{'page':<{width}}{'median ms':>10}{'p90 ms':>9}{'× baseline':>12}{'queries':>9}"
    print(header)
    print("-" * len(header))
    for outcome in outcomes:
        status = "ok" if outcome.returncode == 0 else f"exit {outcome.returncode}"
        for label, median, p90, ratio, queries in outcome.rows:
            print(f"{outcome.script:<16}{label:<{width}}{median:>10}{p90:>9}{ratio:>12}{queries:>9}")
        for note in outcome.notes:
            print(f"{outcome.script:<16}{note}")
        if not outcome.rows and not outcome.notes:
            print(f"{outcome.script:<16}(no figures; see its output below)")
        print(f"{outcome.script:<16}[{status}, {outcome.seconds:.0f} s]")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs per script")
    parser.add_argument("--only", nargs="+", metavar="SCRIPT", help="run only these scripts (names without .py)")
    parser.add_argument("--quiet", action="store_true", help="print only the table, not each script's output")
    args = parser.parse_args()
    todo = scripts(args.only)
    if not todo:
        parser.error("no benchmark scripts matched")
    outcomes = []
    for script in todo:
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        outcomes.append(run(script, quick=args.quick))
    print_summary(outcomes)
    if not args.quiet:
        for outcome in outcomes:
            print(f"===== {outcome.script}.py =====")
            print(outcome.output.rstrip())
            print()
    return 0 if all(o.returncode == 0 for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
