"""``clientbase ingest FILE.jsonl``: stream a file of events through the bulk ingest path."""

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

# Events per transaction, by database. SQLite: 10,000 (the most a request carries). A batch's commit writes
# every page it changed, and the events' customer index takes a row on a scattered page for nearly every
# event, so twice the events share many of those pages (1 M events: 55.0 and 56.5 s against 63.6 s).
# PostgreSQL: 5,000, where 10,000 gave the ingest nothing (60.6 s against 68.5 s, 67.7 against 70.7) and
# the raw insert of the same rows took a third longer (bench/RESULTS.md, twentieth session).
BATCH = {"sqlite": 10_000, "postgresql": 5_000}


def default_batch(vendor: str) -> int:
    """Events per transaction for a file's ingest on this database (``BATCH``)."""
    return BATCH.get(vendor, 5_000)


# A file this long (about 60,000 events) is read and parsed in a second process: its start, about a
# second, is less than what it saves (bench/RESULTS.md, eighteenth session).
IN_PROCESS_FROM = 16 * 2**20


_DECODE = msgspec.json.Decoder().decode


def _decoded(line: bytes) -> Any:
    """``json.loads(line)``, by msgspec's decoder: 1.0 µs an event line where ``json.loads`` takes 4.3, in the
    parsing process, which shares the machine's two cores with the ingest and the database. Where msgspec
    refuses a line, ``json.loads`` answers as it did before: it also takes what msgspec does not (an
    unpaired surrogate, which then rejects its event naming the field; ``NaN``), and its errors name the
    place in the line. Where msgspec accepts a line the two give the same objects, big integers included
    (``interactions/tests/test_cli.py``)."""
    try:
        return _DECODE(line)
    except msgspec.MsgspecError:
        return json.loads(line)


# Info of a batch: its events' line numbers, the lines before them that were not JSON (line, reason), bytes read.
Info = tuple[list[int], list[tuple[int, str]], int]


@dataclass(frozen=True)
class JsonLines:
    """A JSON-lines file's events in batches, each with its ``Info``. It only reads and decodes; the caller
    writes the rejects file and the progress bar as the reports come. It pickles: a long file is read and
    parsed by a second process (``ingest_batches(in_process=True)``)."""

    path: Path
    batch_size: int

    def __iter__(self) -> Iterator[tuple[list[Any], Info]]:
        batch: list[Any] = []
        lines: list[int] = []
        bad: list[tuple[int, str]] = []
        size = 0
        with self.path.open("rb") as stream:
            for number, line in enumerate(stream, start=1):
                size += len(line)
                if not line.strip():
                    continue
                try:
                    event = _decoded(line)
                except (ValueError, RecursionError) as exc:  # nested past the interpreter's limit: one bad line
                    bad.append((number, f"Not JSON: {exc}"))
                    continue
                batch.append(event)
                lines.append(number)
                if len(batch) >= self.batch_size:
                    yield batch, (lines, bad, size)
                    batch, lines, bad, size = [], [], [], 0
        yield batch, (lines, bad, size)  # possibly empty: it carries the last lines that were not JSON


def ingest_file(path: Path, *, rejects_path: Path | None, batch_size: int | None = None, progress: bool = True,
                in_process: bool | None = None) -> Counter[str]:
    """Ingest ``path`` (one JSON event per line) in batches of ``batch_size`` (by default the database's:
    ``default_batch``); each batch commits on its own (a bulk job: ``core.bulk.bulk_writes``).
    ``in_process``: read and parse the file in a second process (``ingest_batches``); by default for a
    file of ``IN_PROCESS_FROM`` bytes or more."""
    from django.db import connection
    from tqdm import tqdm

    from clientbase.access.actor import SYSTEM
    from clientbase.core.bulk import bulk_writes
    from clientbase.interactions.ingest import ingest_batches

    totals: Counter[str] = Counter()
    batch_size = batch_size or default_batch(connection.vendor)
    rejects = rejects_path.open("w", encoding="utf-8") if rejects_path else None
    size = path.stat().st_size
    offload = size >= IN_PROCESS_FROM if in_process is None else in_process
    try:
        with bulk_writes(connection), tqdm(total=size, unit="B", unit_scale=True, disable=not progress,
                                           desc="ingest") as bar:
            for report, (lines, bad, read) in ingest_batches(JsonLines(path, batch_size), actor=SYSTEM,
                                                             in_process=offload):
                bar.update(read)
                totals.update(report.counts())
                totals["rejected"] += len(bad)
                if rejects is None:
                    continue
                found = [(line, [{"path": "", "message": reason}]) for line, reason in bad]
                found += [(line, [{"path": e.path, "message": e.message} for e in result.errors])
                          for line, result in zip(lines, report.results, strict=True) if result.status == "rejected"]
                for line, errors in sorted(found, key=lambda item: item[0]):
                    rejects.write(json.dumps({"line": line, "errors": errors}, ensure_ascii=False) + "\n")
    finally:
        if rejects is not None:
            rejects.close()
    return totals


def cmd_ingest(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    path = Path(args.file)
    if not path.is_file():
        print(f"ingest: no such file {path}", file=sys.stderr)
        return 2
    from clientbase.interactions.parsing import MAX_BATCH

    if args.batch is not None and not 1 <= args.batch <= MAX_BATCH:
        print(f"ingest: --batch must be between 1 and {MAX_BATCH}", file=sys.stderr)
        return 2
    rejects = Path(args.rejects) if args.rejects else path.with_suffix(".rejects.jsonl")
    totals = ingest_file(path, rejects_path=rejects, batch_size=args.batch, progress=not args.quiet)
    print(" ".join(f"{key}={totals[key]}" for key in ("created", "duplicate", "rejected", "merged", "reviews")))
    if totals["rejected"]:
        print(f"Rejected events with line numbers and reasons: {rejects}")
    return 0


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("ingest", help="Ingest a JSON-lines file of events (one event per line).",
                       description="Ingest a JSON-lines file of events (one event per line).")
    p.add_argument("file")
    p.add_argument("--rejects", help="where to write rejected lines with reasons (default FILE.rejects.jsonl)")
    p.add_argument("--batch", type=int, default=None,
                   help="events per transaction (at most 10000; default 10000 on SQLite, 5000 on PostgreSQL)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)
