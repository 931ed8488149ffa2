"""Queue letter deliveries on the Redis queue of ``tests_perf.qcluster_settings``: one id per line on stdin."""

from __future__ import annotations

import sys

import django


def main() -> int:
    django.setup()
    from django_q.tasks import async_task

    count = 0
    for line in sys.stdin:
        delivery_id = line.strip()
        if delivery_id:
            async_task("letters.tasks.letter_deliver", delivery_id, task_name=f"letter-deliver-{delivery_id}")
            count += 1
    print(count)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
