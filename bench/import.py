"""How fast ``clientbase import`` reads a customer base and an order history, and how much memory it needs.

    python bench/import.py --customers 1000000 --order-lines 5000000 --db sqlite
    python bench/import.py --customers 1000000 --order-lines 5000000 --db postgres

Generates a customers CSV (Russian headers, phones and dates in mixed formats, 2% duplicate people
sharing a phone, 0.5% rows with a bad phone) and an orders CSV (one line a row, 1-4 lines an order,
for phones of those customers), then imports both into a fresh database in ``valid-rows`` mode and
reports rows/s and the peak resident memory of the process (the files are streamed, so it should
stay flat whatever the size). The last line of output is one JSON object.
Targets (issue 4): at least 10,000 rows/s, peak memory under 500 MB at any size.
"""

import argparse
import csv
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fresh_db import pg_admin, prepare  # noqa: E402

TARGET_ROWS_PER_S = 10_000
TARGET_MB = 500
SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков"]
NAMES = ["Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Иван", "Артём", "Михаил"]
CITIES = ["Москва", "Санкт-Петербург", "Казань", "Екатеринбург", "Новосибирск", ""]
SKUS = [(f"SKU-{i:03d}", f"Товар {i}", ["coffee", "tea", "desserts", "beans", "merch"][i % 5]) for i in range(60)]


def phone(i: int) -> str:
    digits = f"916{i:07d}"
    style = i % 3
    if style == 0:
        return "+7" + digits
    if style == 1:
        return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    return "7" + digits


def write_customers(path: Path, count: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Код", "Фамилия", "Имя", "Телефон", "E-mail", "Дата рождения", "Город", "Пол"])
        for i in range(count):
            person = rng.randrange(i) if i > 50 and rng.random() < 0.02 else i   # a duplicate of someone
            year, month, day = 1950 + person % 55, 1 + person % 12, 1 + person % 28
            born = f"{day:02d}.{month:02d}.{year}" if person % 2 else f"{year}-{month:02d}-{day:02d}"
            tel = "12-34" if rng.random() < 0.005 else phone(person)
            writer.writerow([f"K{i}", SURNAMES[person % 9], NAMES[person % 9], tel,
                             f"guest{person}@example.com" if person % 2 else "", born, CITIES[person % 6],
                             "М" if person % 2 else "Ж"])


def write_orders(path: Path, lines: int, customers: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Номер заказа", "Дата", "Телефон", "Артикул", "Товар", "Категория", "Количество",
                         "Цена", "Скидка"])
        written, order = 0, 0
        while written < lines:
            order += 1
            customer = rng.randrange(customers)
            when = f"{1 + rng.randrange(28):02d}.{1 + rng.randrange(12):02d}.2025 {8 + rng.randrange(14)}:{rng.randrange(60):02d}"
            for _ in range(min(1 + rng.randrange(4), lines - written)):
                sku, name, category = SKUS[rng.randrange(len(SKUS))]
                writer.writerow([f"B-{order}", when, "+7" + f"916{customer:07d}", sku, name, category,
                                 1 + rng.randrange(2), f"{100 + rng.randrange(400)},{rng.randrange(100):02d}", 0])
                written += 1


def _prepare(db: str, workdir: Path) -> str | None:
    return prepare(db, workdir, "import")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux reports KiB


def _import(customers_csv: Path, orders_csv: Path) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from clientbase.cli import setup_django

    setup_django()
    from django.core.management import call_command

    from clientbase.access.actor import SYSTEM
    from clientbase.customers.importing import import_customers
    from clientbase.sales.importing import import_orders

    call_command("migrate", interactive=False, verbosity=0)
    result: dict[str, Any] = {"mb_before": round(_peak_mb())}
    started = time.perf_counter()
    customers = import_customers(customers_csv, actor=SYSTEM, mode="valid-rows")
    seconds = time.perf_counter() - started
    result["customers"] = {"rows": customers.rows, "created": customers.created, "refused": customers.rejected_rows,
                           "seconds": round(seconds, 1), "rows_per_s": round(customers.rows / seconds),
                           "peak_mb": round(_peak_mb())}
    print(f"customers: {result['customers']}", flush=True)
    started = time.perf_counter()
    orders = import_orders(orders_csv, mode="valid-rows")
    seconds = time.perf_counter() - started
    result["orders"] = {"rows": orders.rows, "orders": orders.created, "refused": orders.rejected_rows,
                        "seconds": round(seconds, 1), "rows_per_s": round(orders.rows / seconds),
                        "peak_mb": round(_peak_mb())}
    print(f"orders: {result['orders']}", flush=True)
    from django.db import connections

    connections.close_all()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--order-lines", type=int, default=5_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cb-bench-import-"))
    rng = random.Random(args.seed)
    started = time.perf_counter()
    write_customers(workdir / "customers.csv", args.customers, rng)
    write_orders(workdir / "orders.csv", args.order_lines, args.customers, rng)
    print(f"files generated in {time.perf_counter() - started:.1f} s", flush=True)
    pg_name = _prepare(args.db, workdir)
    try:
        result = _import(workdir / "customers.csv", workdir / "orders.csv")
    finally:
        if pg_name:
            pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
    peak = round(_peak_mb())
    slowest = min(result["customers"]["rows_per_s"], result["orders"]["rows_per_s"])
    print(json.dumps({"bench": "import", "db": args.db, "customers": args.customers,
                      "order_lines": args.order_lines, "customers_rows_per_s": result["customers"]["rows_per_s"],
                      "orders_rows_per_s": result["orders"]["rows_per_s"], "peak_mb": peak,
                      "target_rows_per_s": TARGET_ROWS_PER_S, "target_mb": TARGET_MB,
                      "meets_targets": slowest >= TARGET_ROWS_PER_S and peak < TARGET_MB}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
