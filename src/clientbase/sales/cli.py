"""``clientbase stats rebuild [--check]``, ``clientbase import FILE`` and ``clientbase export KIND FILE``."""

import argparse
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
        for cid, name, stored, fresh in figures.drift(ids):
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


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    stats = sub.add_parser("stats", help="Per-customer purchase figures.")
    stats_sub = stats.add_subparsers(dest="stats_command", required=True)
    p = stats_sub.add_parser("rebuild", help="Recompute every customer's figures from the orders.")
    p.add_argument("--check", action="store_true",
                   help="only compare stored figures with a recomputation; exit 1 if any drifted")
    p.set_defaults(func=cmd_stats_rebuild)
