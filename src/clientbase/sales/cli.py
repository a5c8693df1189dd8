"""``clientbase stats rebuild [--check]``, ``clientbase import FILE`` and ``clientbase export KIND FILE``."""

import argparse
import itertools
import sys


def cmd_stats_rebuild(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from django.db import transaction
    from tqdm import tqdm

    from clientbase.sales import figures

    ids = figures.customers_with_sales()
    if args.check:
        drifted = 0
        for cid, name, stored, fresh in itertools.chain(figures.drift(ids), figures.orphans()):
            drifted += 1
            if drifted <= 50:
                print(f"customer #{cid} {name}: stored {stored!r}, recomputed {fresh!r}")
        print(f"{len(ids)} customers checked, {drifted} drifted figures.")
        return 1 if drifted else 0
    chunk = 500
    with tqdm(total=len(ids), unit="customer", disable=not sys.stderr.isatty()) as bar:
        for start in range(0, len(ids), chunk):
            with transaction.atomic():
                figures.recompute_customers(ids[start:start + chunk])
            bar.update(len(ids[start:start + chunk]))
    print(f"Figures of {len(ids)} customers rebuilt from their orders.")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    import csv
    import json
    from pathlib import Path

    from django.conf import settings
    from tqdm import tqdm

    from clientbase.access.actor import SYSTEM
    from clientbase.core.errors import DomainValidationError
    from clientbase.customers.importing import Problem, import_customers
    from clientbase.sales.importing import import_orders

    path = Path(args.file)
    if not path.is_file():
        print(f"import: no file {path}", file=sys.stderr)
        return 2
    mapping = json.loads(Path(args.mapping).read_text("utf-8")) if args.mapping else {}
    report_file = open(args.report, "w", newline="", encoding="utf-8-sig") if args.report else None  # noqa: SIM115
    writer = csv.writer(report_file) if report_file else None
    if writer:
        writer.writerow(["sheet", "row", "column", "value", "reason", "rejected"])

    def report(problem: Problem) -> None:
        if writer:
            writer.writerow([problem.sheet, problem.row, problem.column, problem.value, problem.reason,
                             "yes" if problem.rejected else "no (note)"])
        elif problem.rejected:
            print(f"{problem.sheet}:{problem.row} {problem.column!r} {problem.value!r}: {problem.reason}",
                  file=sys.stderr)

    bar = tqdm(unit="row", desc=f"import {path.name}", disable=args.quiet)

    def progress(rows: int) -> None:
        bar.update(rows - bar.n)

    options = {"mapping": mapping, "mode": args.mode, "dry_run": args.dry_run,
               "region": settings.CLIENTBASE_DEFAULT_REGION, "report": report, "progress": progress}
    try:
        if args.kind == "orders":
            result = import_orders(path, **options)  # type: ignore[arg-type]
        else:
            result = import_customers(path, actor=SYSTEM, **options)  # type: ignore[arg-type]
    except DomainValidationError as exc:
        print(f"import: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
        if report_file:
            report_file.close()
    what = "orders" if args.kind == "orders" else "customers"
    print(f"{result.rows} rows read; {what}: {result.created} new, {result.updated} changed, "
          f"{result.unchanged} already there; {result.rejected_rows} rows refused, {result.problems} problems; "
          + ("stored." if result.stored else "NOTHING stored" + (" (dry run)." if args.dry_run else ".")))
    return 0 if result.stored or (args.dry_run and not result.rejected_rows) else 1


def cmd_export(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from clientbase.access.actor import SYSTEM
    from clientbase.sales.exporting import export

    fmt = args.format or ("xlsx" if args.file.lower().endswith(".xlsx") else "csv")
    with open(args.file, "wb") as target:
        count = export(args.kind, fmt, target, actor=SYSTEM)
    print(f"{count} {args.kind} rows written to {args.file}")
    return 0


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    stats = sub.add_parser("stats", help="Per-customer purchase figures.")
    stats_sub = stats.add_subparsers(dest="stats_command", required=True)
    p = stats_sub.add_parser("rebuild", help="Recompute every customer's figures from the orders.")
    p.add_argument("--check", action="store_true",
                   help="only compare stored figures with a recomputation; exit 1 if any drifted")
    p.set_defaults(func=cmd_stats_rebuild)

    p = sub.add_parser("import", help="Import customers or orders from CSV or XLSX (see docs/sales.md).")
    p.add_argument("file")
    p.add_argument("--kind", choices=["customers", "orders"], default="customers")
    p.add_argument("--mapping", help="JSON file: {\"columns\": {header: field or null}, \"sheets\": {name: role}}")
    p.add_argument("--dry-run", action="store_true", help="check everything, store nothing")
    p.add_argument("--mode", choices=["all-or-nothing", "valid-rows"], default="all-or-nothing")
    p.add_argument("--report", help="write every refused cell to this CSV (sheet,row,column,value,reason)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="Export customers, orders or figures to CSV or XLSX.")
    p.add_argument("kind", choices=["customers", "orders", "figures"])
    p.add_argument("file")
    p.add_argument("--format", choices=["csv", "xlsx"], help="default: from the file name")
    p.set_defaults(func=cmd_export)
