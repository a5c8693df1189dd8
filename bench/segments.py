"""Segment counts and refreshes at scale, against hand-written SQL for the same rules (issue 7).

    python bench/segments.py --size 1000000 --db postgres
    python bench/segments.py --size 1000000 --db sqlite

A fresh database gets the demo's profiles (staff, people, companies stages); per-customer figures,
scores and loyalty balances are then drawn with numpy (seeded) and bulk-loaded, because the demo's
purchase history at a million customers would take longer than the benchmark. For each of ten
reference rules it times the compiled count, the hand-written SQL count (same answer is checked),
and a full membership refresh. The last line is one JSON object.
Targets: counts under 1 s on PostgreSQL, at most 1.5x the hand-written query.
"""

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TODAY = dt.date(2026, 11, 20)

# name -> (rule, hand-written SQL count with %(today)s-style parameters filled in below)
RULES: dict[str, tuple[dict[str, Any], str]] = {
    "city": ({"field": "city", "op": "eq", "value": "Москва"},
             "SELECT COUNT(*) FROM customers_customer WHERE merged_into_id IS NULL AND city = 'Москва'"),
    "women_25_35": ({"all": [{"field": "gender", "op": "eq", "value": "female"},
                             {"field": "age", "op": "between", "value": [25, 35]}]},
                    "SELECT COUNT(*) FROM customers_customer WHERE merged_into_id IS NULL AND gender = 'female' "
                    "AND birth_date <= '{age25}' AND birth_date > '{age36}'"),
    "orders_5plus": ({"field": "figures.orders", "op": "gte", "value": 5},
                     "SELECT COUNT(*) FROM customers_customer c JOIN sales_customerfigures f "
                     "ON f.customer_id = c.id WHERE c.merged_into_id IS NULL AND f.orders >= 5"),
    "at_risk": ({"all": [{"field": "figures.orders", "op": "gte", "value": 2},
                         {"field": "figures.last_purchase_at", "op": "older_than_days", "value": 90}]},
                "SELECT COUNT(*) FROM customers_customer c JOIN sales_customerfigures f ON f.customer_id = c.id "
                "WHERE c.merged_into_id IS NULL AND f.orders >= 2 AND f.last_purchase_at < '{minus90}'"),
    "p_alive_low": ({"field": "score.probability_alive", "op": "lt", "value": 0.3},
                    "SELECT COUNT(*) FROM customers_customer c JOIN analytics_customerscore s "
                    "ON s.customer_id = c.id WHERE c.merged_into_id IS NULL AND s.probability_alive < 0.3"),
    "rfm_best": ({"field": "score.segment", "op": "in", "value": ["champions", "loyal"]},
                 "SELECT COUNT(*) FROM customers_customer c JOIN analytics_customerscore s ON s.customer_id = c.id "
                 "WHERE c.merged_into_id IS NULL AND s.segment IN ('champions', 'loyal')"),
    "birthday_week": ({"birthday_within_days": 7}, "BIRTHDAY"),
    "tag_vip": ({"tag": "vip"},
                "SELECT COUNT(*) FROM customers_customer c WHERE c.merged_into_id IS NULL AND EXISTS (SELECT 1 "
                "FROM customers_customer_tags ct JOIN customers_tag t ON t.id = ct.tag_id "
                "WHERE ct.customer_id = c.id AND t.name = 'vip')"),
    "rich_loyal": ({"all": [{"field": "loyalty.balance", "op": "gt", "value": 500},
                            {"field": "figures.frequency", "op": "eq", "value": "regular"}]},
                   "SELECT COUNT(*) FROM customers_customer c JOIN sales_customerfigures f ON f.customer_id = c.id "
                   "JOIN loyalty_account a ON a.customer_id = c.id WHERE c.merged_into_id IS NULL "
                   "AND a.balance > 500 AND f.frequency = 'regular'"),
    "telegram_not_b2b": ({"all": [{"any": [{"identifier": "telegram"},
                                           {"field": "preferred_channel", "op": "eq", "value": "telegram"}]},
                                  {"not": {"tag": "b2b"}}]},
                         "SELECT COUNT(*) FROM customers_customer c WHERE c.merged_into_id IS NULL AND "
                         "(c.preferred_channel = 'telegram' OR EXISTS (SELECT 1 FROM identity_identifier i "
                         "WHERE i.customer_id = c.id AND i.kind = 'telegram')) AND NOT EXISTS (SELECT 1 FROM "
                         "customers_customer_tags ct JOIN customers_tag t ON t.id = ct.tag_id "
                         "WHERE ct.customer_id = c.id AND t.name = 'b2b')"),
}


def hand_sql(name: str, vendor: str) -> str:
    sql = RULES[name][1]
    if sql == "BIRTHDAY":
        month_day = ("CAST(strftime('%m', birth_date) AS INTEGER) * 100 + CAST(strftime('%d', birth_date) AS INTEGER)"
                     if vendor == "sqlite" else "EXTRACT(MONTH FROM birth_date) * 100 + EXTRACT(DAY FROM birth_date)")
        end = TODAY + dt.timedelta(days=7)
        return (f"SELECT COUNT(*) FROM customers_customer WHERE merged_into_id IS NULL AND birth_date IS NOT NULL "
                f"AND {month_day} BETWEEN {TODAY.month * 100 + TODAY.day} AND {end.month * 100 + end.day}")
    return sql.format(age25=TODAY.replace(year=TODAY.year - 25), age36=TODAY.replace(year=TODAY.year - 36),
                      minus90=TODAY - dt.timedelta(days=90))


def fill_figures_scores_loyalty(seed: int) -> int:
    """Per-customer figures, scores and one loyalty account for a third of the customers (seeded)."""
    import numpy as np
    from django.db import connection

    from clientbase.demo import bulk
    from clientbase.loyalty.models import Program

    bulk.TABLES["figures"] = bulk.Table("sales.CustomerFigures", (
        "customer_id", "orders", "total_spend", "average_check", "last_purchase_at", "first_purchase_at", "frequency"))
    bulk.TABLES["scores"] = bulk.Table("analytics.CustomerScore", (
        "customer_id", "model_version", "computed_at", "probability_alive", "clv", "segment", "next_purchase_at"))
    bulk.TABLES["accounts"] = bulk.Table("loyalty.Account", ("program_id", "customer_id", "balance"))
    program = Program.objects.create(name="Bench", slug="bench")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customers_customer ORDER BY id")
        ids = np.array([r[0] for r in cursor.fetchall()], dtype=np.int64)
    rng = np.random.default_rng(seed)
    segments = np.array(["champions", "loyal", "new", "at_risk", "hibernating", "lost"])
    frequency = np.array(["", "one_off", "rare", "regular"])
    now = dt.datetime(2026, 11, 20, 12, 0)
    total = 0
    for start in range(0, len(ids), 50_000):
        chunk = ids[start:start + 50_000]
        n = len(chunk)
        orders = rng.poisson(3, n)
        spend = orders * rng.integers(20_000, 90_000, n)
        last = [bulk.stamp(now - dt.timedelta(days=int(d))) for d in rng.integers(0, 500, n)]
        batch = bulk.Batch()
        batch.extend("figures", list(zip(
            chunk.tolist(), orders.tolist(), spend.tolist(), (spend // np.maximum(orders, 1)).tolist(), last, last,
            frequency[np.minimum(orders, 3)].tolist(), strict=True)))
        batch.extend("scores", list(zip(
            chunk.tolist(), ["bench"] * n, [bulk.stamp(now)] * n, rng.random(n).round(4).tolist(),
            (rng.gamma(1.5, 4000, n)).round(2).tolist(), segments[rng.integers(0, 6, n)].tolist(),
            [(TODAY + dt.timedelta(days=int(d))).isoformat() for d in rng.integers(-5, 60, n)], strict=True)))
        has = rng.random(n) < 1 / 3
        batch.extend("accounts", [(program.pk, int(c), int(b)) for c, b in
                                  zip(chunk[has], rng.integers(0, 2000, int(has.sum())), strict=True)])
        total += bulk.load(batch)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
    return total


def timed(func: Any, repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from clientbase.cli import setup_django

    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from clientbase.access.actor import SYSTEM
    from clientbase.demo.setup import ensure_demo
    from clientbase.segments import services

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    ensure_demo(customers=args.size, seed=args.seed, progress=False, path=workdir / "demo.json",
                stages=("staff", "people", "companies"))
    extra = fill_figures_scores_loyalty(args.seed)
    print(f"data ready in {time.perf_counter() - started:.0f} s ({extra:,} figure/score/account rows)")
    at = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
    results = []
    for name, (rule, _sql) in RULES.items():
        node = services.parse_rule(rule)
        ours, count = timed(lambda node=node: services.rule_queryset(node, at=at).count())

        def hand(name: str = name) -> int:
            with connection.cursor() as cursor:
                cursor.execute(hand_sql(name, connection.vendor))
                return int(cursor.fetchone()[0])

        theirs, expected = timed(hand)
        segment = services.save_segment({"name": name, "rule": rule, "refresh_every_minutes": 0}, actor=SYSTEM)
        first, _ = timed(lambda segment=segment: services.refresh(segment, at=at), repeat=1)
        again, _ = timed(lambda segment=segment: services.refresh(segment, at=at), repeat=1)
        results.append({"rule": name, "count": count, "hand_count": expected, "count_s": round(ours, 4),
                        "hand_s": round(theirs, 4), "ratio": round(ours / theirs, 2) if theirs else None,
                        "refresh_first_s": round(first, 3), "refresh_again_s": round(again, 3)})
    return {"rules": results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    from fresh_db import pg_admin as _pg_admin
    from fresh_db import prepare as _prepare

    workdir = Path(tempfile.mkdtemp(prefix="cb-bench-segments-"))
    pg_name = _prepare(args.db, workdir)
    try:
        result = run(args, workdir)
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
    rows = result["rules"]
    print(f"\n{'rule':<18}{'count':>10}{'ours s':>9}{'hand s':>9}{'ratio':>7}{'refresh s':>11}{'again s':>9}")
    for r in rows:
        same = "" if r["count"] == r["hand_count"] else f"  MISMATCH hand={r['hand_count']}"
        print(f"{r['rule']:<18}{r['count']:>10,}{r['count_s']:>9.3f}{r['hand_s']:>9.3f}{r['ratio'] or 0:>7.2f}"
              f"{r['refresh_first_s']:>11.2f}{r['refresh_again_s']:>9.2f}{same}")
    worst = max(r["count_s"] for r in rows)
    worst_ratio = max(r["ratio"] or 0 for r in rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"bench": "segments", "db": args.db, "customers": args.size, "rules": len(rows),
                      "max_count_s": worst, "max_ratio_to_hand_sql": worst_ratio,
                      "max_refresh_s": max(r["refresh_first_s"] for r in rows),
                      "all_counts_match": all(r["count"] == r["hand_count"] for r in rows),
                      "peak_mb": round(peak_mb), "per_rule": rows}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientbase.settings")
    sys.exit(main())
