"""The in-product scoring run at scale: load purchases from the database, fit, score, store (issue 5).

    python bench/analytics_run.py --size 100000 --db sqlite
    python bench/analytics_run.py --size 1000000 --db postgres

A fresh database gets ``size`` bare customers and a BG/NBD + Gamma-Gamma simulated purchase log over 540 days
(``clientbase.analytics.models.simulate``), bulk-loaded with raw ``executemany``. Then ``run_scoring`` runs
once (Pareto/NBD comparison off) and the phases' seconds and peak memory are printed; last line is JSON.
"""

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

PG_SERVER = "postgres://postgres@127.0.0.1:5432"
END = dt.date(2026, 11, 20)


def prepare(db: str, reuse: bool) -> None:
    os.environ["CLIENTBASE_HOME"] = tempfile.mkdtemp(prefix="cb-bench-analytics-")
    os.environ.setdefault("CLIENTBASE_TESTING", "1")
    if db == "postgres" and reuse:
        os.environ["CLIENTBASE_DATABASE_URL"] = f"{PG_SERVER}/cb_bench_analytics"
    elif db == "postgres":
        import psycopg

        name = "cb_bench_analytics"
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        os.environ["CLIENTBASE_DATABASE_URL"] = f"{PG_SERVER}/{name}"
    from clientbase.cli import _migrate, setup_django

    setup_django()
    _migrate()


def load(size: int) -> int:
    import numpy as np
    from django.db import connection, transaction

    from clientbase.analytics.models.simulate import simulate_transaction_log
    from clientbase.customers.models import Customer

    log = simulate_transaction_log(size, np.random.default_rng(7), days=540.0)
    with transaction.atomic():
        for start in range(0, size, 20000):
            Customer.objects.bulk_create([Customer(first_name="B") for _ in range(min(20000, size - start))],
                                         batch_size=5000)
    ids = np.array(Customer.objects.order_by("id").values_list("id", flat=True))
    _, index = np.unique(log.customer_id, return_inverse=True)
    origin = dt.datetime.combine(END - dt.timedelta(days=540), dt.time(9), tzinfo=dt.UTC)
    stamp = connection.ops.adapt_datetimefield_value
    sql = ("INSERT INTO sales_order (customer_id, source, number, store, channel, currency, status, payment_status, "
           "paid_with_points, placed_at, items, gross_amount, discount_amount, cost_amount, created_at) "
           "VALUES (%s, 'bench', %s, '', '', 'RUB', 'completed', 'paid', 0, %s, 1, %s, 0, 0, %s)")
    now = stamp(dt.datetime.now(dt.UTC))
    rows = zip(ids[index].tolist(), log.timestamp.tolist(), log.amount.tolist(), strict=True)
    batch: list[tuple[Any, ...]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for n, (cid, day, amount) in enumerate(rows):
            batch.append((cid, f"B{n}", stamp(origin + dt.timedelta(days=day)), int(amount * 100), now))
            if len(batch) == 50000:
                cursor.executemany(sql, batch)
                batch.clear()
        cursor.executemany(sql, batch)
    return int(log.customer_id.shape[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reuse", action="store_true", help="PostgreSQL: rerun on the last loaded database")
    args = parser.parse_args()
    prepare(args.db, args.reuse)
    started = time.perf_counter()
    if args.reuse:
        from clientbase.sales.models import Order

        orders = Order.objects.count()
    else:
        orders = load(args.size)
    print(f"loaded {args.size} customers, {orders} orders in {time.perf_counter() - started:.1f} s", flush=True)
    from clientbase.analytics.scoring import ScoringSettings
    from clientbase.analytics.services import run_scoring

    started = time.perf_counter()
    run = run_scoring(as_of=END, settings=ScoringSettings(compare_pareto=False), progress=True)
    total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"run {run.version}: {run.customers} scored from {run.transactions} purchases in {total:.1f} s; "
          f"phases {', '.join(f'{k} {v:.1f}' for k, v in run.timings.items())}; peak RSS {peak_mb:.0f} MB")
    print(json.dumps({"bench": "analytics_run", "db": args.db, "customers": args.size, "orders": orders,
                      "scored": run.customers, "seconds": round(total, 2),
                      "timings": {k: round(v, 2) for k, v in run.timings.items()}, "peak_rss_mb": round(peak_mb)}))


if __name__ == "__main__":
    main()
