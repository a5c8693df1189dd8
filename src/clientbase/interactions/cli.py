"""``clientbase ingest FILE.jsonl``: stream a file of events through the bulk ingest path."""

import argparse
import json
import sys
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

BATCH = 5000


def _batches(stream: IO[bytes], batch_size: int,
             read: "deque[tuple[list[int], list[tuple[int, str]], int]]") -> Iterator[list[Any]]:
    """The file's events in batches; for each batch, appended to ``read``: its events' line numbers, the
    lines before them that were not JSON (line, reason) and the bytes read. It only reads and decodes; the
    caller writes the rejects file and the progress bar, in step with the reports (``ingest_stream`` reads
    the next batch before it hands out the report of the one before, so ``read`` holds at most two)."""
    batch: list[Any] = []
    lines: list[int] = []
    bad: list[tuple[int, str]] = []
    size = 0
    for number, line in enumerate(stream, start=1):
        size += len(line)
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            bad.append((number, f"Not JSON: {exc}"))
            continue
        batch.append(event)
        lines.append(number)
        if len(batch) >= batch_size:
            read.append((lines, bad, size))
            yield batch
            batch, lines, bad, size = [], [], [], 0
    read.append((lines, bad, size))
    yield batch  # possibly empty: it carries the last lines that were not JSON


def ingest_file(path: Path, *, rejects_path: Path | None, batch_size: int = BATCH,
                progress: bool = True) -> Counter[str]:
    """Ingest ``path`` (one JSON event per line) in batches; each batch commits on its own (a bulk job:
    ``core.bulk.bulk_writes``). Each batch is checked in a helper thread while the one before it commits
    (``ingest_stream``)."""
    from django.db import connection
    from tqdm import tqdm

    from clientbase.access.actor import SYSTEM
    from clientbase.core.bulk import bulk_writes
    from clientbase.interactions.ingest import ingest_stream

    totals: Counter[str] = Counter()
    rejects = rejects_path.open("w", encoding="utf-8") if rejects_path else None
    read: deque[tuple[list[int], list[tuple[int, str]], int]] = deque()
    try:
        with bulk_writes(connection), path.open("rb") as stream, tqdm(total=path.stat().st_size, unit="B", unit_scale=True,
                                             disable=not progress, desc="ingest") as bar:
            for report in ingest_stream(_batches(stream, batch_size, read), actor=SYSTEM):
                lines, bad, size = read.popleft()
                bar.update(size)
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
    p.add_argument("--batch", type=int, default=BATCH, help="events per transaction (at most 10000)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)
