"""Two ways of inserting a batch's events, compared inside one ingest run, batch by batch.

    python bench/ingest_alternate.py --size 400000 --db sqlite

The machine these run on changes speed by a quarter or more between runs minutes apart, which hides a
change of a few percent between two runs of ``bench/ingest.py``. Here one ``ingest_stream`` runs the
generated events of ``bench/ingest.py`` and the batches alternate (A B B A A B …) between the events
insert of ``core.fastinsert`` (A: one multi-row ``INSERT``, ``insert_rows(one_call=True)``) and the one it
replaced in the twelfth session (B: ``INSERT … SELECT … FROM json_each(?)`` over the batch as one JSON
text); both run beside the parser thread as in a real stream. Each batch is timed from asking the stream
for it to getting its report. ``--rows`` sets A's rows per statement (``_ROWS_PER_STATEMENT``).
Last line: JSON with both sums and medians and ``b_over_a`` (above 1: A is faster).
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fresh_db import drop, prepare  # noqa: E402
from ingest import Generator, _setup  # noqa: E402


def _json_each(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """B: the eleventh session's one-call insert (SQLite)."""
    from django.db import connection

    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    values = ", ".join(f"value ->> {i}" for i in range(len(columns)))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(table)} ({names}) SELECT {values} FROM json_each(%s)",
                       [json.dumps(rows, allow_nan=False)])


def run(size: int, batch: int, rows: int | None) -> dict[str, Any]:
    from django.db import connection

    from clientbase.access.actor import SYSTEM
    from clientbase.core import fastinsert
    from clientbase.core.bulk import bulk_writes
    from clientbase.interactions.ingest import ingest_stream

    if connection.vendor != "sqlite":
        raise SystemExit("the two inserts differ on SQLite only (PostgreSQL takes COPY either way)")
    if rows:
        fastinsert._ROWS_PER_STATEMENT = rows
    current = fastinsert._insert_many
    variant = ["a"]
    fastinsert._insert_many = lambda *args: (current if variant[0] == "a" else _json_each)(*args)  # type: ignore[assignment]
    times: dict[str, list[float]] = {"a": [], "b": []}
    with bulk_writes(connection):
        reports = ingest_stream(Generator(7).batches(size, batch), actor=SYSTEM)
        n = 0
        while True:
            variant[0] = "ab"[n % 2] if n // 2 % 2 == 0 else "ba"[n % 2]  # A B B A A B B A …
            started = time.perf_counter()
            if next(reports, None) is None:
                break
            times[variant[0]].append(time.perf_counter() - started)
            n += 1
    a, b = sum(times["a"]), sum(times["b"])
    return {"bench": "ingest_alternate", "db": connection.vendor, "size": size, "batch": batch,
            "rows_per_statement": fastinsert._ROWS_PER_STATEMENT, "batches": [len(times["a"]), len(times["b"])],
            "a_s": round(a, 2), "b_s": round(b, 2), "a_median_ms": round(statistics.median(times["a"]) * 1000, 1),
            "b_median_ms": round(statistics.median(times["b"]) * 1000, 1), "b_over_a": round(b / a, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=400_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--db", choices=["sqlite"], default="sqlite")
    parser.add_argument("--rows", type=int, default=None, help="A's rows per statement (default: the module's)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cb-bench-alternate-"))
    pg_name = prepare(args.db, workdir, "alternate")
    try:
        _setup()
        result = run(args.size, args.batch, args.rows)
    finally:
        drop(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"A (multi-row INSERT) {result['a_s']} s, median {result['a_median_ms']} ms a batch; "
          f"B (json_each) {result['b_s']} s, median {result['b_median_ms']} ms; B/A {result['b_over_a']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
