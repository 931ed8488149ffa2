"""Shared helpers for the scripts in benchmarks/.

Each benchmark runs against a PostgreSQL database of its own (never the
development or test database), drives Django in-process with the test client
(the whole middleware stack, the view, the ORM and the templates: the server's
time without the network), and measures a plain Django view returning a short
string in the same run, so results read as a ratio that does not depend on the
machine. Requests to the pages under test are interleaved with the baseline's
so that a slow spell on the machine affects both alike.

Usage from a benchmark script::

    from _common import Bench, setup_django

    setup_django("flexlmn_bench")           # before importing any Django model
    bench = Bench()
    bench.add("/shop/", "/shop/")
    results = bench.run(runs=200)
    print_table(results, title="...")
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BASELINE_PATH = "/__bench__/baseline/"
BASELINE_LABEL = "baseline: plain view"
DEFAULT_SERVER_URL = "postgres://postgres:postgres@127.0.0.1:5432/postgres"


def database_url(name: str) -> str:
    """The URL of database ``name`` on the server of BENCH_DATABASE_URL or DATABASE_URL (else local)."""
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL
    parts = urlsplit(base)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"Benchmarks need PostgreSQL; got a {parts.scheme or 'missing'} DATABASE_URL.")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def ensure_database(url: str) -> None:
    """Create the benchmark's database when it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(server, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(database_name: str, *, migrate: bool = True) -> str:
    """Point Django at the benchmark database, set it up, migrate; return the database URL.

    The test settings are used (DEBUG off, no HTTPS redirect for the test
    client, static files without a manifest), with this database.
    """
    url = database_url(database_name)
    ensure_database(url)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "flexlmn.settings.test"
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    _install_baseline_view()
    return url


def baseline_view(request: Any) -> Any:
    from django.http import HttpResponse

    return HttpResponse("ok")


def _install_baseline_view() -> None:
    """Serve the baseline view beside the project's URLs, through the same middleware."""
    from django.conf import settings
    from django.urls import clear_url_caches, path

    import flexlmn.urls

    module = types.ModuleType("benchmarks_urlconf")
    module.urlpatterns = [path(BASELINE_PATH.strip("/") + "/", baseline_view), *flexlmn.urls.urlpatterns]  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()


@dataclass
class Result:
    label: str
    url: str
    timings_ms: list[float] = field(default_factory=list)
    # This process's CPU time per request: the Python side's work, unaffected by waiting for a CPU
    # (on a busy machine the wall-clock time also counts time spent queued behind other jobs).
    cpu_ms: list[float] = field(default_factory=list)
    queries: int = 0
    # PostgreSQL's own execution time for the page's queries (EXPLAIN ANALYZE), without round trips.
    db_ms: float = 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def median_cpu_ms(self) -> float:
        return statistics.median(self.cpu_ms)

    @property
    def p90_ms(self) -> float:
        ordered = sorted(self.timings_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


class Bench:
    """Time GETs of several URLs, interleaved with the baseline view, with one test client."""

    def __init__(self, *, prepare_client: Callable[[Any], None] | None = None) -> None:
        from django.test import Client

        self.client = Client()
        if prepare_client is not None:
            prepare_client(self.client)
        self.pages: list[Result] = [Result(BASELINE_LABEL, BASELINE_PATH)]

    def add(self, label: str, url: str) -> None:
        self.pages.append(Result(label, url))

    def _get(self, url: str) -> tuple[float, float]:
        start, cpu_start = time.perf_counter(), time.process_time()
        response = self.client.get(url)
        elapsed, cpu = (time.perf_counter() - start) * 1000, (time.process_time() - cpu_start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}; the benchmark needs 200.")
        return elapsed, cpu

    def run(self, *, runs: int = 200, warmup: int = 20, max_seconds: float = 90.0) -> list[Result]:
        """Warm up, count each page's queries, then time ``runs`` rounds (fewer if ``max_seconds`` runs out)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for page in self.pages:
            for _ in range(warmup):
                self._get(page.url)
            with CaptureQueriesContext(connection) as captured:
                self._get(page.url)
            page.queries = len(captured)
            page.db_ms = _execution_ms([query["sql"] for query in captured.captured_queries])
        deadline = time.monotonic() + max_seconds
        for round_number in range(runs):
            for page in self.pages:
                elapsed, cpu = self._get(page.url)
                page.timings_ms.append(elapsed)
                page.cpu_ms.append(cpu)
            if round_number >= 30 and time.monotonic() > deadline:
                break
        return self.pages


def _execution_ms(statements: list[str], *, repeat: int = 5) -> float:
    """Median over ``repeat`` runs of the summed server-side execution time of the SELECTs."""
    from django.db import connection

    totals = []
    for _ in range(repeat):
        total = 0.0
        with connection.cursor() as cursor:
            for sql in statements:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                # The captured SQL is what psycopg sent, parameters inlined by its client-side binding.
                cursor.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                total += float(plan[0]["Execution Time"]) + float(plan[0].get("Planning Time", 0.0))
        totals.append(total)
    return statistics.median(totals)


def print_table(results: list[Result], *, title: str, budget_ms: float | None = None) -> bool:
    """Print medians, p90 and the ratio to the baseline; return whether every page is within budget."""
    baseline = next(r for r in results if r.label == BASELINE_LABEL)
    width = max(len(r.label) for r in results) + 2
    print(title)
    load = os.getloadavg()
    print(f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min).")
    print()
    header = f"{'page':<{width}}{'median ms':>10}{'p90 ms':>9}{'× baseline':>12}{'cpu ms':>8}{'db ms':>7}{'queries':>9}"
    if budget_ms is not None:
        header += f"{'budget':>10}"
    print(header)
    print("-" * len(header))
    within = True
    for result in results:
        ratio = result.median_ms / baseline.median_ms
        line = (
            f"{result.label:<{width}}{result.median_ms:>10.2f}{result.p90_ms:>9.2f}{ratio:>11.1f}×"
            f"{result.median_cpu_ms:>8.2f}{result.db_ms:>7.2f}{result.queries:>9}"
        )
        if budget_ms is not None and result is not baseline:
            ok = result.median_ms < budget_ms
            within = within and ok
            line += f"{'ok' if ok else 'OVER':>10}"
        print(line)
    print(
        "median/p90: wall-clock server time per request; cpu: the Python process's CPU time (median); "
        "db: PostgreSQL planning + execution of the request's queries (EXPLAIN ANALYZE, median of 5); "
        "queries: SQL statements per request."
    )
    print()
    return within
