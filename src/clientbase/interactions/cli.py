"""``clientbase ingest FILE.jsonl``: stream a file of events through the bulk ingest path."""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any

BATCH = 5000


def _flush(batch: list[tuple[int, Any]], totals: Counter[str], rejects: IO[str] | None) -> None:
    from clientbase.access.actor import SYSTEM
    from clientbase.interactions.ingest import ingest_events

    report = ingest_events([event for _, event in batch], actor=SYSTEM)
    totals.update(report.counts())
    if rejects is not None:
        for (line, _), result in zip(batch, report.results, strict=True):
            if result.status == "rejected":
                rejects.write(json.dumps({"line": line, "errors": [
                    {"path": e.path, "message": e.message} for e in result.errors]}, ensure_ascii=False) + "\n")
    batch.clear()


def ingest_file(path: Path, *, rejects_path: Path | None, batch_size: int = BATCH,
                progress: bool = True) -> Counter[str]:
    """Ingest ``path`` (one JSON event per line) in batches; each batch commits on its own (a bulk job:
    ``core.bulk.bulk_writes``)."""
    from django.db import connection
    from tqdm import tqdm

    from clientbase.core.bulk import bulk_writes

    totals: Counter[str] = Counter()
    rejects = rejects_path.open("w", encoding="utf-8") if rejects_path else None
    batch: list[tuple[int, Any]] = []
    try:
        with bulk_writes(connection), path.open("rb") as stream, tqdm(total=path.stat().st_size, unit="B", unit_scale=True,
                                             disable=not progress, desc="ingest") as bar:
            for number, line in enumerate(stream, start=1):
                bar.update(len(line))
                if not line.strip():
                    continue
                try:
                    batch.append((number, json.loads(line)))
                except ValueError as exc:
                    totals["rejected"] += 1
                    if rejects is not None:
                        rejects.write(json.dumps({"line": number, "errors": [
                            {"path": "", "message": f"Not JSON: {exc}"}]}) + "\n")
                    continue
                if len(batch) >= batch_size:
                    _flush(batch, totals, rejects)
            if batch:
                _flush(batch, totals, rejects)
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
