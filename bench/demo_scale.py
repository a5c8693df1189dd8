"""How fast the demo generator fills a fresh database, and how much memory it needs.

    python bench/demo_scale.py --size 1000000 --db sqlite
    python bench/demo_scale.py --size 1000000 --db postgres   # needs PostgreSQL on 127.0.0.1:5432

SQLite goes to a fresh temporary file; PostgreSQL to a fresh database created here and dropped at
the end. The schema is migrated first (not timed). By default only the profile stages run (staff,
people, companies); ``--all-stages`` adds the ones later issues registered. The last line of output is
one JSON object.
Targets (issue 2): 1,000,000 customers in under 3 minutes and under 1 GB peak memory on 2 cores.
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fresh_db import pg_admin, prepare  # noqa: E402

TARGET_SECONDS = 180
TARGET_MB = 1024


def _prepare(db: str, workdir: Path) -> str | None:
    return prepare(db, workdir, "demo")


def _run(size: int, seed: int, workdir: Path, stages: tuple[str, ...] | None) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from clientbase.cli import setup_django

    setup_django()
    from django.core.management import call_command

    from clientbase.demo.setup import ensure_demo

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter()
    ensure_demo(customers=size, seed=seed, progress=True, path=workdir / "demo.json", stages=stages)
    seconds = time.perf_counter() - migrated
    state = json.loads((workdir / "demo.json").read_text(encoding="utf-8"))
    records: dict[str, Any] = next(iter(state["databases"].values()))["stages"]
    rows: dict[str, int] = {}
    for record in records.values():
        for table, count in record.get("rows", {}).items():
            rows[table] = rows.get(table, 0) + count
    from django.db import connections

    connections.close_all()
    return {"migrate_seconds": migrated - started, "seconds": seconds, "rows": rows,
            "stages": {name: record.get("seconds") for name, record in records.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--all-stages", action="store_true",
                        help="also run the stages later issues added (orders, events…); default: the profiles only")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cb-bench-demo-"))
    pg_name = _prepare(args.db, workdir)
    try:
        result = _run(args.size, args.seed, workdir, None if args.all_stages else ("staff", "people", "companies"))
    finally:
        if pg_name:
            pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
    # Linux reports KiB. The generator's worker process is a child: count both peaks (an upper bound).
    main_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak_mb = main_mb + worker_mb
    # CPU seconds say what the run needs apart from how busy the shared machine was
    # (PostgreSQL's own server processes are not included).
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_main, cpu_worker = own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime
    load = os.getloadavg()[1]
    all_rows = sum(result["rows"].values())
    seconds = result["seconds"]
    print(f"\n{'table':<18}{'rows':>12}")
    for table, count in sorted(result["rows"].items()):
        print(f"{table:<18}{count:>12,}")
    print(f"{'all rows':<18}{all_rows:>12,}")
    print(f"stages (s): {result['stages']}; migrate {result['migrate_seconds']:.1f} s (not counted)")
    print(f"CPU: main {cpu_main:.0f} s, generator worker {cpu_worker:.0f} s; machine load (5 min) {load:.1f}")
    print(f"{args.size:,} customers on {args.db} in {seconds:.1f} s: {args.size / seconds:,.0f} customers/s, "
          f"{all_rows / seconds:,.0f} rows/s, peak {peak_mb:,.0f} MB (main {main_mb:,.0f} + worker {worker_mb:,.0f})")
    print(json.dumps({
        "bench": "demo_scale", "db": args.db, "stages": "all" if args.all_stages else "profiles",
        "customers": args.size, "rows": all_rows,
        "seconds": round(seconds, 1), "customers_per_s": round(args.size / seconds),
        "rows_per_s": round(all_rows / seconds), "peak_mb": round(peak_mb), "target_seconds": TARGET_SECONDS,
        "target_mb": TARGET_MB, "ratio_to_target": round(seconds / TARGET_SECONDS, 3),
        "cpu_main_s": round(cpu_main), "cpu_worker_s": round(cpu_worker), "load_avg_5min": round(load, 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
