"""What one single-event POST /api/v1/events costs: process CPU and database statements, per kind of event.

    python bench/ingest_api_cost.py --db sqlite|postgres [--requests 600]

Timing a server under a shared machine's load measures the load; CPU time and statement counts do not
move with it. Same database and traffic as ``ingest.py --api-latency`` (20,000 events first, then the
generator's next events one per request), but requests go through Django's whole stack in this process
(``django.test.Client``: middleware, token, ninja, ingest) without an HTTP server. Per kind (a known
person, a new one, an event that merges two customers): median process CPU, wall time and statements
sent (on PostgreSQL counted at the driver, so ``core.fastsql`` statements and COMMIT count; BEGIN and
``COPY`` data do not), and on PostgreSQL the server backend's CPU per request. Last line: JSON.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fresh_db import drop, prepare  # noqa: E402

_count = [0]


def _count_statements() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        connection.ensure_connection()
        connection.execute_wrappers.append(lambda execute, *args: (_count.__setitem__(0, _count[0] + 1),
                                                                    execute(*args))[1])
        return
    import psycopg

    def counted(method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            _count[0] += 1
            return method(*args, **kwargs)
        return call

    for name in ("execute", "executemany", "copy"):
        setattr(psycopg.Cursor, name, counted(getattr(psycopg.Cursor, name)))
    commit = psycopg.Connection.commit

    def counted_commit(self: Any) -> None:
        # A COMMIT already sent with the last writes (fastsql.together) leaves nothing for this one to send.
        if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            _count[0] += 1
        commit(self)

    psycopg.Connection.commit = counted_commit  # type: ignore[method-assign]


def _backend_cpu() -> float:
    from django.db import connection
    from ingest_latency import _stat  # type: ignore[import-not-found]

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    return float(_stat(backend)[1])


def run(requests: int) -> dict[str, Any]:
    from ingest import Generator, _setup  # type: ignore[import-not-found]

    _setup()
    from django.db import connection
    from django.test import Client
    from ingest_latency import _token  # type: ignore[import-not-found]

    from clientbase.access.actor import SYSTEM
    from clientbase.customers.models import Customer
    from clientbase.interactions.ingest import ingest_events

    client = Client(HTTP_AUTHORIZATION=f"Bearer {_token()}")
    generator = Generator(7)
    for events in generator.batches(20_000, 5000):
        ingest_events(events, actor=SYSTEM)
    bodies = [json.dumps(e) for batch in generator.batches(requests + 50, requests + 50) for e in batch]
    _count_statements()

    def post(body: str) -> dict[str, Any]:
        response = client.post("/api/v1/events", body, content_type="application/json")
        assert response.status_code == 200, response.content
        return response.json()["results"][0]  # type: ignore[no-any-return]

    for body in bodies[:50]:  # warm-up: connection, caches
        post(body)
    newest = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    samples: dict[str, list[tuple[float, float, int]]] = {"known": [], "new": [], "merge": []}
    backend, started = _backend_cpu(), time.process_time()
    for body in bodies[50:]:
        _count[0] = 0
        cpu, wall = time.process_time(), time.perf_counter()
        result = post(body)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        kind = "merge" if result.get("merges") else "new" if result["customer_id"] > newest else "known"
        newest = max(newest, result["customer_id"])
        samples[kind].append((cpu * 1000, wall * 1000, _count[0]))
    total_cpu = (time.process_time() - started) / requests * 1000
    backend = (_backend_cpu() - backend) / requests * 1000
    return {"bench": "ingest_api_cost", "db": connection.vendor, "requests": requests,
            "cpu_ms_per_request": round(total_cpu, 2), "db_backend_cpu_ms_per_request": round(backend, 2),
            "load_average": os.getloadavg()[0],
            **{kind: {"n": len(rows), "cpu_ms": round(statistics.median(r[0] for r in rows), 2),
                      "wall_ms": round(statistics.median(r[1] for r in rows), 2),
                      "statements": statistics.median(r[2] for r in rows)}
               for kind, rows in samples.items() if rows}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=600)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cb-bench-api-cost-"))
    pg_name = prepare(args.db, workdir, "api_cost")
    try:
        result = run(args.requests)
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            drop(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
