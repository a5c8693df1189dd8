"""Loyalty ledger throughput and the expiry job at scale (issue 6).

    python bench/loyalty.py --db postgres --clients 8 --ops 2000 --lots 1000000
    python bench/loyalty.py --db sqlite --clients 4 --ops 500 --lots 100000

A fresh database gets one program and ``--customers`` registered members. Part 1: every member is
given 1,000 points (one unexpired lot), then ``--clients`` processes (each with its own connection)
run ``--ops`` operations each, alternating an accrual (a purchase basket) and a redemption of a few points, on random members, through
``loyalty.services`` exactly as the API does. Part 2: ``--lots`` already-expired lots (and their
accrual entries and account balances) are loaded with INSERT … SELECT, then ``expire_points``
expires them all; the audit then recomputes everything and must report zero drift.
Targets: at least 1,000 operations/s; 1,000,000 lots expired in under 60 s. The last line is JSON.
"""

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SEED = 1_000  # points each member holds before the tills start

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _setup(customers: int) -> tuple[int, list[int]]:
    from clientbase.cli import setup_django

    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from clientbase.core.clock import now
    from clientbase.customers.models import Customer
    from clientbase.loyalty.models import Account, Program

    program = Program.objects.create(name="Зёрна", slug="zerna", points_name="зёрен", earn_percent=5,
                                     max_redeem_percent=100, lot_expiry_days=365)
    Customer.objects.bulk_create([Customer(first_name=f"Гость {n}") for n in range(customers)], batch_size=5000)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    Account.objects.bulk_create([Account(program=program, customer_id=pk, enrolled_at=now()) for pk in ids],
                                batch_size=5000)
    _seed_balances(program, ids)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would have by the time tills run on a real base
    return program.pk, ids


def _seed_balances(program: Any, ids: list[int]) -> None:
    """Every member starts with SEED points in one unexpired lot, so redemptions write instead of being refused."""
    from django.db import transaction
    from django.db.models import F

    from clientbase.core.clock import now
    from clientbase.loyalty.models import Account, EntryKind, LedgerEntry, Lot

    at = now()
    with transaction.atomic():
        lots = Lot.objects.bulk_create(
            [Lot(program=program, customer_id=pk, points=SEED, remaining=SEED, created_at=at,
                 expires_at=at + dt.timedelta(days=365)) for pk in ids], batch_size=5000)
        LedgerEntry.objects.bulk_create(
            [LedgerEntry(program=program, customer_id=lot.customer_id, kind=EntryKind.BONUS, points=SEED, lot=lot,
                         reason="bench seed", created_at=at) for lot in lots], batch_size=5000)
        Account.objects.filter(program=program).update(balance=F("balance") + SEED)


def _client(job: tuple[int, list[int], int, int]) -> tuple[int, int, int]:
    """One till: its own process and connection; returns (accruals, redemptions, refused)."""
    program_id, ids, ops, seed = job
    from django.db import connections

    connections.close_all()
    from clientbase.core.errors import DomainValidationError
    from clientbase.loyalty import services
    from clientbase.loyalty.models import Program
    from clientbase.loyalty.rules import Basket, BasketLine

    program = Program.objects.get(pk=program_id)
    rng = random.Random(seed)
    earned = spent = refused = 0
    for n in range(ops):
        customer = rng.choice(ids)
        if n % 2 == 0:
            basket = Basket(lines=[BasketLine(sku="latte", amount=rng.randint(10_000, 200_000))])
            services.earn(program, customer, basket, operation_id=f"c{seed}-{n}", order_ref=f"c{seed}-{n}")
            earned += 1
        else:
            try:
                services.redeem(program, customer, rng.randint(1, 5), operation_id=f"c{seed}-{n}")
                spent += 1
            except DomainValidationError:
                refused += 1
    connections.close_all()
    return earned, spent, refused


def throughput(program_id: int, ids: list[int], clients: int, ops: int) -> dict[str, Any]:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    server_before, clients_before = _server_cpu(), _children_cpu()
    started = time.perf_counter()
    with context.Pool(clients) as pool:
        results = pool.map(_client, [(program_id, ids, ops, seed) for seed in range(clients)])
    seconds = time.perf_counter() - started
    server_cpu, client_cpu = _server_cpu() - server_before, _children_cpu() - clients_before
    done = sum(e + s + r for e, s, r in results)
    return {"clients": clients, "operations": done, "seconds": round(seconds, 2),
            "ops_per_s": round(done / seconds, 1), "accruals": sum(r[0] for r in results),
            "redemptions": sum(r[1] for r in results), "refused": sum(r[2] for r in results),
            "client_cpu_ms_per_op": round(client_cpu * 1000 / done, 3),
            "server_cpu_ms_per_op": round(server_cpu * 1000 / done, 3) if server_cpu else None}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _server_cpu() -> float:
    """CPU seconds used so far by the local PostgreSQL server's processes (0 when it is not on this machine).

    With the clients' own CPU this gives the work per operation, which does not depend on what else the
    machine is doing, unlike operations per second on a shared machine."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.partition(") ")
        if name.endswith("(postgres"):
            fields = rest.split()
            # utime, stime, and cutime/cstime: the postmaster's reaped backends (the clients' exit with them)
            total += sum(int(x) for x in fields[11:15])
    return total / os.sysconf("SC_CLK_TCK")


def _load_lots(program_id: int, ids: list[int], lots: int) -> float:
    from django.db import connection, transaction

    from clientbase.core.clock import now

    started = time.perf_counter()
    at = now()
    created = connection.ops.adapt_datetimefield_value(at - dt.timedelta(days=400))
    expires = connection.ops.adapt_datetimefield_value(at - dt.timedelta(days=35))
    first, count = ids[0], len(ids)
    true = "true" if connection.vendor == "postgresql" else "1"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO loyalty_lot (program_id, customer_id, points, remaining, active, activates_at, expires_at,"
            " warned_at, expired, expired_by_id, created_at) WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL"
            f" SELECT n + 1 FROM g WHERE n < %s) SELECT %s, %s + (n %% %s), 10 + n %% 7, 10 + n %% 7, {true}, NULL,"
            " %s, NULL, 0, NULL, %s FROM g",
            (lots - 1, program_id, first, count, expires, created))
        cursor.execute(
            "INSERT INTO loyalty_ledgerentry (program_id, customer_id, kind, points, pending, owed, unrecovered,"
            " lot_id, operation_id, order_ref, amount, basket, reason, batch, created_at, staff_id)"
            " SELECT program_id, customer_id, 'accrual', points, 0, 0, 0, id, NULL, '', 0, '{}', '', '',"
            " created_at, NULL FROM loyalty_lot WHERE expires_at = %s", (expires,))
        cursor.execute(
            "UPDATE loyalty_account SET balance = loyalty_account.balance + s.total FROM (SELECT customer_id,"
            " SUM(points) AS total FROM loyalty_lot WHERE expires_at = %s GROUP BY customer_id) AS s"
            " WHERE loyalty_account.customer_id = s.customer_id AND loyalty_account.program_id = %s",
            (expires, program_id))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def expiry(program_id: int, ids: list[int], lots: int) -> dict[str, Any]:
    from clientbase.loyalty.audit import audit
    from clientbase.loyalty.expiry import expire_points
    from clientbase.loyalty.models import Program

    load_s = _load_lots(program_id, ids, lots)
    program = Program.objects.get(pk=program_id)
    started = time.perf_counter()
    result = expire_points(program)
    expire_s = time.perf_counter() - started
    started = time.perf_counter()
    report = audit()
    audit_s = time.perf_counter() - started
    return {"lots_loaded": lots, "load_s": round(load_s, 1), "expired_lots": result.lots,
            "expired_points": result.points, "expire_s": round(expire_s, 2),
            "lots_per_s": round(result.lots / expire_s), "audit_s": round(audit_s, 2),
            "audit_accounts": report.accounts, "audit_lots": report.lots, "drift": len(report.drift)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--ops", type=int, default=2000, help="operations per client")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--lots", type=int, default=1_000_000)
    args = parser.parse_args()
    from fresh_db import pg_admin as _pg_admin
    from fresh_db import prepare as _prepare

    workdir = Path(tempfile.mkdtemp(prefix="cb-bench-loyalty-"))
    pg_name = _prepare(args.db, workdir)
    try:
        program_id, ids = _setup(args.customers)
        ops = throughput(program_id, ids, args.clients, args.ops)
        exp = expiry(program_id, ids, args.lots)
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{'measure':<40}{'value':>14}")
    for label, value in (("clients (processes)", ops["clients"]), ("operations", ops["operations"]),
                         ("accrual+redemption ops/s", ops["ops_per_s"]), ("refused redemptions", ops["refused"]),
                         ("CPU ms per op, clients", ops["client_cpu_ms_per_op"]),
                         ("CPU ms per op, database server", ops["server_cpu_ms_per_op"]),
                         ("lots expired", exp["expired_lots"]), ("expiry job, s", exp["expire_s"]),
                         ("expired lots/s", exp["lots_per_s"]), ("audit after, s", exp["audit_s"]),
                         ("audit drift", exp["drift"])):
        print(f"{label:<40}{value:>14,}" if isinstance(value, int) else f"{label:<40}{value:>14}")
    print(json.dumps({"bench": "loyalty", "db": args.db, "customers": args.customers, **ops, **exp,
                      "targets_met": ops["ops_per_s"] >= 1000 and exp["expire_s"] < 60 and exp["drift"] == 0}))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientbase.settings")
    sys.exit(main())
