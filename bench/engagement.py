"""Engagement at scale (issue 8): daily trigger evaluation over N customers, and sends per second
through the outbox to a real SMTP server on loopback.

    python bench/engagement.py --customers 1000000 --db sqlite
    python bench/engagement.py --customers 1000000 --db postgres

A fresh database gets N bare customer rows (seeded birth dates, genders, creation dates) and one
analytics score each (probability active, predicted next purchase), bulk-loaded with the demo's
loader; profiles beyond that do not change what the triggers read. Then the day's triggers run
(birthday with message and task, predicted next purchase, churn risk under 0.3 with a task,
90 days without contact with a task, points expiring): first run (everything new) and a second run
the same day (must fire nothing: idempotent). Then ``--sends`` transactional emails go through
``outbox.run_once`` to an aiosmtpd server, each delivered once. Target: daily triggers < 2 minutes.
The last line is one JSON object.
"""

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TODAY = dt.date(2026, 11, 20)
AT = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)


def load_customers(size: int, seed: int) -> None:
    import numpy as np

    from clientbase.demo import bulk

    bulk.TABLES.clear()
    bulk.TABLES["customers"] = bulk.Table("customers.Customer", (
        "id", "kind", "first_name", "last_name", "birth_date", "gender", "time_zone", "created_at", "updated_at"))
    bulk.TABLES["scores"] = bulk.Table("analytics.CustomerScore", (
        "customer_id", "model_version", "computed_at", "frequency", "probability_alive", "clv", "segment",
        "next_purchase_at"))
    rng = np.random.default_rng(seed)
    genders = np.array(["female", "male", ""])
    stamp = bulk.stamp(dt.datetime(2026, 11, 1))
    for start in range(1, size + 1, 50_000):
        ids = np.arange(start, min(start + 50_000, size + 1))
        n = len(ids)
        births = [(dt.date(1950, 1, 1) + dt.timedelta(days=int(d))).isoformat() for d in rng.integers(0, 20_000, n)]
        created = [bulk.stamp(dt.datetime(2023, 1, 1) + dt.timedelta(days=int(d))) for d in rng.integers(0, 1400, n)]
        batch = bulk.Batch()
        batch.extend("customers", list(zip(
            ids.tolist(), ["person"] * n, ["Анна"] * n, ["Петрова"] * n, births,
            genders[rng.integers(0, 3, n)].tolist(), ["Europe/Moscow"] * n, created, created, strict=True)))
        batch.extend("scores", list(zip(
            ids.tolist(), ["bench"] * n, [stamp] * n, rng.integers(0, 10, n).tolist(),
            rng.random(n).round(4).tolist(), rng.gamma(1.5, 400_000, n).round(2).tolist(), ["loyal"] * n,
            [(TODAY + dt.timedelta(days=int(d))).isoformat() for d in rng.integers(-30, 90, n)], strict=True)))
        bulk.load(batch)
    bulk.sync_customer_ids()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def make_triggers() -> list[Any]:
    from clientbase.engagement.models import Trigger

    specs = [("birthday", {"days_before": 3}, "birthday", "congratulate"),
             ("next_purchase", {"days_before": 3}, "next_purchase", ""),
             ("churn_risk", {"threshold": 0.3, "min_repeat_days": 1}, "", "call"),
             ("no_contact", {"days": 365}, "", "call"),
             ("points_expiring", {"days": 7}, "points_expiring", ""),
             ("holiday", {"days_before": 0}, "holiday", "")]
    return [Trigger.objects.create(kind=kind, name=kind, config=config, template_key=template, task_kind=task)
            for kind, config, template, task in specs]


def evaluate_all(triggers: list[Any]) -> tuple[float, dict[str, dict[str, float]]]:
    from clientbase.engagement.triggers import evaluate

    per: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for trigger in triggers:
        t0 = time.perf_counter()
        fired = evaluate(trigger, AT)
        per[trigger.kind] = {"fired": fired, "s": round(time.perf_counter() - t0, 2)}
    return time.perf_counter() - started, per


def sends(count: int) -> dict[str, Any]:
    from django.test import override_settings

    from clientbase.customers.models import Customer
    from clientbase.engagement import outbox
    from clientbase.engagement.models import Message
    from clientbase.engagement.tests.servers import smtp_server
    from clientbase.identity.models import Identifier

    Message.objects.all().delete()  # only the send test's rows in the queue
    customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:count])
    Identifier.objects.bulk_create([Identifier(customer_id=c, kind="email", value=f"c{c}@example.com")
                                    for c in customers], batch_size=5000)
    for cid in customers:
        outbox.enqueue(Customer(pk=cid), idempotency_key=f"bench:{cid}", kind="transactional",
                       subject="Your receipt", body="Thank you, {{ first_name }}!")
    with smtp_server() as (mailbox, port), override_settings(
            CLIENTBASE_SMTP={"host": "127.0.0.1", "port": port, "timeout": 10}):
        started = time.perf_counter()
        totals: dict[str, int] = {}
        while True:
            counts = outbox.run_once("bench", limit=200)
            if not counts:
                break
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        seconds = time.perf_counter() - started
        arrived = len(mailbox.messages)
    return {"messages": count, "sent": totals.get("sent", 0), "arrived": arrived, "seconds": round(seconds, 2),
            "per_second": round(count / seconds, 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from clientbase.cli import setup_django

    setup_django()
    from django.core.management import call_command

    from clientbase.engagement.models import Message, Task, TriggerFire

    call_command("migrate", interactive=False, verbosity=0)
    from clientbase.engagement.models import Trigger

    Trigger.objects.all().delete()  # the seeded defaults; the bench makes its own
    t0 = time.perf_counter()
    load_customers(args.customers, args.seed)
    print(f"{args.customers:,} customers and scores loaded in {time.perf_counter() - t0:.0f} s", flush=True)
    triggers = make_triggers()
    first, per = evaluate_all(triggers)
    print(f"first evaluation {first:.1f} s: {per}", flush=True)
    produced = {"fires": TriggerFire.objects.count(), "messages": Message.objects.count(),
                "tasks": Task.objects.count()}
    again, per_again = evaluate_all(triggers)
    print(f"second evaluation {again:.1f} s: {per_again}", flush=True)
    return {"customers": args.customers, "triggers_first_s": round(first, 1), "triggers_again_s": round(again, 1),
            "per_trigger": per, "produced": produced,
            "fired_again": sum(int(v["fired"]) for v in per_again.values()), "sends": sends(args.sends)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    from fresh_db import pg_admin as _pg_admin
    from fresh_db import prepare as _prepare

    workdir = Path(tempfile.mkdtemp(prefix="cb-bench-engagement-"))
    pg_name = _prepare(args.db, workdir)
    try:
        result = run(args)
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({"bench": "engagement", "db": args.db, **result}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
