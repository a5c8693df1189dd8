"""Single-event API latency for bench/ingest.py --api-latency: POST /api/v1/events at a fixed rate.

The server is ``clientbase serve`` in its own process; this process is the client, over loopback.
Requests are sent open-loop on a fixed schedule (``--rate`` per second) from a small thread pool, and
latency is measured from the scheduled send time, so a slow server cannot hide its queueing delay.
Also reported: the CPU time per request of the server's processes and of PostgreSQL's, over the measured
requests, which move far less with the machine's load than the latencies do.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

_local = threading.local()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _token() -> str:
    from clientbase.access.services import create_staff_user, issue_token

    user = create_staff_user("bench", role="admin", password="bench-password-1")
    return issue_token(user, name="bench", scopes=["events:write"])[1]


def _post(port: int, token: str, body: bytes) -> int:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/api/v1/events", body=body,
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status


def _stat(pid: int | str) -> tuple[int, float]:
    """Process ``pid``'s parent and its user + system CPU seconds, with that of its children that have ended."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(wanted: Callable[[int, int, str], bool]) -> float:
    """CPU (``_stat``) of the processes for which ``wanted(pid, parent pid, command line)`` holds. The ended
    children count: PostgreSQL's backends end when the server closes a connection after its 60 s, and the
    postmaster then holds their CPU."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parent, cpu = _stat(entry)
            command = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if wanted(int(entry), parent, command):
            total += cpu
    return total


def _postgres(_: int, __: int, command: str) -> bool:
    """PostgreSQL's processes: its backends and helpers (``postgres: …``) and the postmaster itself."""
    return command.startswith("postgres") or command.split("\0", 1)[0].endswith("/postgres")


def _wait_up(port: int, deadline: float) -> None:
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("clientbase serve did not start")


def _open_loop(port: int, token: str, bodies: list[bytes], rate: int) -> tuple[list[float], list[int]]:
    """POST each body at its scheduled time (``rate`` per second) from 16 client threads; latency from the
    scheduled time, so a slow server cannot hide its queueing delay."""
    latencies: list[float] = []
    statuses: list[int] = []
    interval = 1 / rate
    start = time.perf_counter() + 0.1

    def one(i: int) -> None:
        scheduled = start + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        statuses.append(_post(port, token, bodies[i]))
        latencies.append((time.perf_counter() - scheduled) * 1000)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(len(bodies))))
    return latencies, statuses


def run_latency(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from ingest import Generator, _setup  # type: ignore[import-not-found]

    _setup()
    from django.db import connection

    token = _token()
    # Known people first, so most API events resolve to stored customers as in production.
    from clientbase.access.actor import SYSTEM
    from clientbase.interactions.ingest import ingest_events

    generator = Generator(args.seed)
    for events in generator.batches(20_000, 5000):
        ingest_events(events, actor=SYSTEM)
    connection.close()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "clientbase.cli", "serve", "--port", str(port), "--workers", "2"],
                              env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_up(port, time.time() + 60)
        warmup = 2 * args.rate
        bodies = [json.dumps(e).encode() for batch in generator.batches(warmup + args.requests, 10_000) for e in batch]
        # Warm-up, discarded: two seconds at the measured rate from the same pool, so every server thread
        # has opened its database connection (sequential warm-up requests reached one thread per worker, and
        # the first concurrent second then measured connection set-up, 360-440 ms, not ingest).
        _open_loop(port, token, bodies[:warmup], args.rate)
        # CPU per request of the server (its parent process and workers), of PostgreSQL (all its processes)
        # and of this client, which shares the machine's cores with both: unlike the latencies, these
        # hardly move with the machine's load, and their sum times the rate is the cores the run keeps busy.
        server_cpu = _cpu_seconds(lambda pid, parent, _: server.pid in (pid, parent))
        database_cpu = _cpu_seconds(_postgres)
        client_cpu = time.process_time()
        latencies, statuses = _open_loop(port, token, bodies[warmup:], args.rate)
        server_cpu = _cpu_seconds(lambda pid, parent, _: server.pid in (pid, parent)) - server_cpu
        database_cpu = _cpu_seconds(_postgres) - database_cpu
        client_cpu = time.process_time() - client_cpu
        latencies.sort()
        return {"bench": "ingest_api_latency", "db": connection.vendor, "rate": args.rate, "requests": len(latencies),
                "ok": statuses.count(200), "p50_ms": round(statistics.median(latencies), 1),
                "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1), "max_ms": round(latencies[-1], 1),
                "server_cpu_ms_per_request": round(server_cpu / len(latencies) * 1000, 2),
                "postgres_cpu_ms_per_request": round(database_cpu / len(latencies) * 1000, 2),
                "client_cpu_ms_per_request": round(client_cpu / len(latencies) * 1000, 2)}
    finally:
        server.terminate()
        server.wait(timeout=30)
