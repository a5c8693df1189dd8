"""Bulk event ingest throughput against the raw insert floor, and single-event API latency.

    python bench/ingest.py --size 1000000 --db sqlite
    python bench/ingest.py --size 1000000 --db postgres      # PostgreSQL on 127.0.0.1:5432
    python bench/ingest.py --api-latency --db sqlite         # p99 of POST /api/v1/events at 200 req/s

A fresh database each run (a temporary SQLite file, or a PostgreSQL database created and dropped
here). Generated events: about 30% introduce new people (some as two half-profiles: phone only and
email only), about 5% link the two halves of a person and so merge two customers, the rest come from
known people. The events are written to a JSON-lines file (not timed), which ``ingest_file`` ingests in
batches of ``--batch``, as ``clientbase ingest FILE`` does: read and parsed in a second process from its
size on (``--path``; ``objects`` hands the generated objects to ``ingest_stream``, the measure before the
eighteenth session). The floor is a raw insert of the same event rows (``core.fastinsert``: COPY
on PostgreSQL, executemany on SQLite) into the same table in the same batches: each row with the
customer the event belongs to after the ingest, into the events table emptied first, so the foreign key
and the indexes see what they saw during the ingest. Last line: JSON.
Targets (issue 3): >= 20,000 events/s on SQLite; >= 1/3 of the floor; API p99 < 20 ms.
``machine_gauge_s``: the seconds a fixed loop of pure Python took before and after the run (``machine_gauge``).
"""

import argparse
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fresh_db import pg_admin, prepare  # noqa: E402

RECENT = 600
FIRST_NAMES = ["Иван", "Анна", "Ольга", "Пётр", "Мария", "Сергей", "Елена", "Дмитрий"]


def _prepare(db: str, workdir: Path) -> str | None:
    return prepare(db, workdir, "ingest")


class Generator:
    """Deterministic synthetic traffic; person ``n`` has phone +7900nnnnnnn and email pn@bench.ru."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.people = 0
        self.split_waiting: list[int] = []  # half-profiles created, halves not yet linked
        self.counter = 0

    def _event(self, identifiers: dict[str, str], traits: dict[str, str] | None = None) -> dict[str, Any]:
        self.counter += 1
        kind = self.rng.random()
        event: dict[str, Any] = {
            "id": f"b{self.counter}", "source": "bench", "type": "message" if kind < 0.3 else "visit",
            "channel": "site_chat" if kind < 0.3 else "web",
            "occurred_at": f"2026-{1 + self.counter % 12:02d}-{1 + self.counter % 28:02d}T10:00:00+03:00",
            "identifiers": identifiers, "data": {"direction": "inbound", "text": "Здравствуйте"} if kind < 0.3 else {},
        }
        if traits:
            event["traits"] = traits
        return event

    @staticmethod
    def phone(n: int) -> str:
        return f"+7900{n:07d}"

    @staticmethod
    def email(n: int) -> str:
        return f"p{n}@bench.ru"

    def next(self) -> list[dict[str, Any]]:
        roll = self.rng.random()
        if roll < 0.20 or self.people < 100:
            self.people += 1
            n = self.people
            return [self._event({"phone": self.phone(n), "email": self.email(n)},
                                {"first_name": self.rng.choice(FIRST_NAMES)})]
        if roll < 0.25:  # a person seen twice, once by phone and once by email: two customers, 10% of events
            self.people += 1
            n = self.people
            self.split_waiting.append(n)
            return [self._event({"phone": self.phone(n)}), self._event({"email": self.email(n)})]
        if roll < 0.30 and len(self.split_waiting) > RECENT:  # the link: one merge
            # Not one of the most recent halves: those may still be in the same batch, where the walk
            # attaches them without a merge.
            n = self.split_waiting.pop(self.rng.randrange(len(self.split_waiting) - RECENT))
            return [self._event({"phone": self.phone(n), "email": self.email(n)})]
        n = self.rng.randint(1, self.people)
        return [self._event({"phone": self.phone(n)} if self.rng.random() < 0.7 else {"email": self.email(n)})]

    def batches(self, size: int, batch: int) -> Iterator[list[dict[str, Any]]]:
        produced, current = 0, []
        while produced < size:
            for event in self.next():
                if produced >= size:
                    break
                current.append(event)
                produced += 1
                if len(current) == batch:
                    yield current
                    current = []
        if current:
            yield current


def _setup() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from clientbase.cli import setup_django

    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _ingest(size: int, batch: int, seed: int, how: str, workdir: Path) -> dict[str, Any]:
    """The events through the bulk path. ``file`` (default): written to a JSON-lines file first (not
    timed), then ``ingest_file`` as ``clientbase ingest FILE`` runs it, reading and parsing in a second
    process from this size on. ``objects``: the generated objects handed to ``ingest_stream``, parsed by
    a helper thread (the path before the eighteenth session); generating them is not timed."""
    from django.db import connection
    from tqdm import tqdm

    from clientbase.access.actor import SYSTEM
    from clientbase.core.bulk import bulk_writes
    from clientbase.interactions.cli import ingest_file
    from clientbase.interactions.ingest import ingest_stream

    totals: Counter[str] = Counter()
    generating = 0.0
    path = workdir / "events.jsonl"
    if how != "objects":
        with path.open("w", encoding="utf-8") as out:
            for events in Generator(seed).batches(size, batch):
                out.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in events)

    def batches() -> Iterator[list[dict[str, Any]]]:
        nonlocal generating
        source = Generator(seed).batches(size, batch)
        while True:
            started = time.perf_counter()
            events = next(source, None)
            generating += time.perf_counter() - started
            if events is None:
                return
            yield events

    # A bulk job, as `clientbase ingest FILE` runs it (and the floor below): the WAL checkpoints of SQLite
    # widened for the job (core.bulk). With objects the stream pulls each batch from this generator in the
    # ingesting thread, before the batch's transaction: generating the events stands in for reading the
    # file, and its time is taken out.
    _settled()
    started = time.perf_counter()
    cpu = time.thread_time()  # this thread's own work, apart from the time it waits (for the parser, the GIL, a sync)
    # Every thread's: with the parser's, what the GIL and the two cores have to carry between them.
    process_cpu = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if how == "objects":
        with bulk_writes(connection), tqdm(total=size, unit="ev", desc="ingest") as bar:
            for report in ingest_stream(batches(), actor=SYSTEM):
                totals.update(report.counts())
                bar.update(len(report.results))
    else:
        totals = ingest_file(path, rejects_path=None, batch_size=batch, progress=True,
                             in_process=None if how == "file" else how == "file-process")
    elapsed = time.perf_counter() - started - generating
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    path.unlink(missing_ok=True)
    return {"path": how, "seconds": round(elapsed, 2), "events_per_s": round(size / elapsed),
            "generating_s": round(generating, 2), "thread_cpu_s": round(time.thread_time() - cpu - generating, 2),
            "process_cpu_s": round(time.process_time() - process_cpu - generating, 2),
            # The parsing process's, when there is one.
            "parser_process_cpu_s": round(after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime, 2),
            **{key: totals[key] for key in ("created", "duplicate", "rejected", "merged", "reviews")}}


def _settled() -> None:
    """Before a timed phase on PostgreSQL: a checkpoint, so the phase does not pay for writing out the pages
    the step before it dirtied (the migrations before the ingest; the ingest and the vacuums before the
    floor). Without it the floor of the same rows took 6.5-9.9 s for 300 k events over six runs in a row,
    depending on when the server's own checkpoint fell."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")


def _owners(size: int) -> "array[int]":
    """The customer each generated event belongs to at the end of the ingest (event ``b<n>`` at ``n - 1``):
    the one it was stored with, or the survivor a later merge moved it to."""
    from django.db import connection

    from clientbase.interactions.models import Event

    owners = array("q", bytes(8 * size))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT external_id, customer_id FROM {Event._meta.db_table} WHERE source = %s", ["bench"])
        while rows := cursor.fetchmany(50_000):
            for external_id, customer_id in rows:
                owners[int(external_id[1:]) - 1] = customer_id
    return owners


def _empty_events() -> None:
    """Take the ingest's events out, so the floor fills the events table from empty as the ingest did, and
    clean up after the ingest on both databases alike (not timed): PostgreSQL rewrites the events table and
    vacuums the rest (the dead row versions the merges left in customers and identifiers), SQLite rebuilds
    the file. Nothing else refers to the events in this database (no orders or carts)."""
    from django.db import connection

    from clientbase.interactions.models import Event

    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # outside a transaction (autocommit): VACUUM cannot run in one
            cursor.execute(f"VACUUM FULL {table}")
            cursor.execute("VACUUM")
    else:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")


def _floor(size: int, batch: int, seed: int, kind: str) -> dict[str, Any]:
    """The same event rows, inserted into the same table by core.fastinsert (COPY on PostgreSQL,
    executemany on SQLite) with no resolution at all: each row with the customer the event belongs to after
    the ingest (so the foreign key and the customer index see the same keys), into the events table
    emptied first (so its indexes grow from nothing, as during the ingest).

    ``kind="one"`` is the floor of the sessions up to the eighth, kept to compare: every row with one
    customer (one parent row for the foreign key to check, one spot in the customer index), added
    after the ingest's rows under another source.

    Timed from the parsed JSON objects to committed rows. The ingest is timed from the file (``--path file``,
    reading and decoding included) or from the same objects (``--path objects``).
    """
    from django.db import connection, transaction
    from django.utils.dateparse import parse_datetime

    from clientbase.core.bulk import bulk_writes
    from clientbase.core.clock import now
    from clientbase.core.fastinsert import insert_rows
    from clientbase.customers.models import Customer
    from clientbase.interactions.models import Event
    from clientbase.interactions.storing import _EVENT_COLUMNS

    stored = kind == "stored"
    if stored:
        owners = _owners(size)
        _empty_events()
    else:
        one = Customer.objects.values_list("pk", flat=True).first()
    source = "bench" if stored else "floor"
    _settled()
    elapsed = 0.0
    with bulk_writes(connection):
        for events in Generator(seed).batches(size, batch):
            customers = [owners[int(e["id"][1:]) - 1] for e in events] if stored else [one] * len(events)
            started = time.perf_counter()
            received = now()
            rows = [(source, e["id"], e["type"], e["channel"], parse_datetime(e["occurred_at"]), received, customer_id,
                     [f"{k}:{v}" for k, v in e["identifiers"].items()], e.get("traits", {}), e["data"])
                    for e, customer_id in zip(events, customers, strict=True)]
            with transaction.atomic():
                insert_rows(Event, _EVENT_COLUMNS, rows)
            elapsed += time.perf_counter() - started
    return {"seconds": round(elapsed, 2), "events_per_s": round(size / elapsed)}


def run_throughput(args: argparse.Namespace) -> dict[str, Any]:
    _setup()
    from django.db import connection

    from clientbase.interactions.cli import default_batch

    args.batch = args.batch or default_batch(connection.vendor)

    ingest = _ingest(args.size, args.batch, args.seed, args.path, args.workdir)
    ingest["peak_rss_mb"] = _peak_rss_mb()  # the process's peak so far: the ingest's (the floor's comes after)
    floor = _floor(args.size, args.batch, args.seed, args.floor)
    return {"bench": "ingest", "db": connection.vendor, "size": args.size, "batch": args.batch,
            "ingest": ingest, "floor": {"rows": args.floor, **floor}, "ratio_to_floor": round(ingest["events_per_s"] / floor["events_per_s"], 3),
            "peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def machine_gauge() -> float:
    """Seconds a fixed piece of pure Python takes, before and after a run: 100,000 small event-like objects
    built, written as JSON, read back and indexed, the kind of work (allocation, dictionaries, text) the
    ingest does. This machine's speed moves by half or more from minute to minute (bench/RESULTS.md,
    twenty-second session), and a figure means little without it: compare runs by it."""
    started = time.perf_counter()
    rows = [{"id": f"b{n}", "source": "bench", "identifiers": {"phone": f"+7900{n:07d}"}, "data": {"n": n}}
            for n in range(100_000)]
    back = {row["id"]: row for row in map(json.loads, map(json.dumps, rows))}
    del rows, back
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=None, help="events per batch (default: the CLI's)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--floor", choices=["stored", "one"], default="stored",
                        help="floor rows with the customers the ingest stored (default), or all with one customer "
                             "(the floor before the ninth session)")
    parser.add_argument("--path", choices=["file", "file-process", "file-thread", "objects"], default="file",
                        help="events from a JSON-lines file through ingest_file, as `clientbase ingest` (default: "
                             "parsed in a second process from its size on; or always, or never), or generated "
                             "objects through ingest_stream")
    parser.add_argument("--api-latency", action="store_true", help="measure single-event API latency instead")
    parser.add_argument("--rate", type=int, default=200, help="requests per second for --api-latency")
    parser.add_argument("--requests", type=int, default=4000, help="requests sent for --api-latency")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cb-bench-ingest-"))
    pg_name = _prepare(args.db, workdir)
    args.workdir = workdir
    gauge_before = machine_gauge()
    try:
        if args.api_latency:
            from ingest_latency import run_latency

            result = run_latency(args, workdir)
        else:
            result = run_throughput(args)
        result["machine_gauge_s"] = [gauge_before, machine_gauge()]
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
