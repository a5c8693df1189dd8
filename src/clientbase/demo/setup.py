"""``ensure_demo``: build the demo business once, reuse it afterwards, and say how to log in.

What was built is remembered in ``$CLIENTBASE_HOME/demo.json``, per database (vendor and name), with
the seed, the size, the demo's "today", the shared demo password and the stages that ran. A later
start runs only the stages that are missing (new ones a later version added, or one that was cut
short: a chunked stage resumes from its last checkpoint).
"""

import json
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from clientbase.core.clock import now
from clientbase.demo.business import CHAIN_NAME, DEMO_SOURCE, STAFF
from clientbase.demo.stages import STAGES, DemoContext, Stage, run_stage

STATE_VERSION = 1
# The stages that build the customer base itself; benchmarks and tests of it run just these.
PROFILE_STAGES = ("staff", "people", "companies")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str


def state_path() -> Path:
    return Path(settings.HOME) / "demo.json"


def database_key() -> str:
    return f"{connection.vendor}:{connection.settings_dict['NAME']}"


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"version": STATE_VERSION, "databases": {}}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("databases", {})
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.chmod(0o600)   # it holds the demo password
    tmp.replace(path)


def _current_entry(data: dict[str, Any], *, customers: int, seed: int) -> dict[str, Any]:
    """This database's record; a fresh one when the record is missing or the database was emptied."""
    from clientbase.identity.models import Identifier

    entry = data["databases"].get(database_key())
    admin = STAFF[0].username
    if entry and not get_user_model().objects.filter(username=admin).exists():
        entry = None   # the database was recreated behind our back: build again
    if entry is None:
        entry = {"seed": seed, "customers": customers, "anchor": now().date().isoformat(),
                 "password": secrets.token_urlsafe(12), "chain": CHAIN_NAME, "stages": {}}
        if Identifier.objects.filter(source=DEMO_SOURCE).exists():
            # Demo rows exist but their record is gone: keep them, only reset the users' password.
            entry["stages"] = {s.name: {"adopted": True} for s in STAGES if s.name != "staff"}
        data["databases"][database_key()] = entry
    entry_: dict[str, Any] = entry
    return entry_


def ensure_demo(*, customers: int = 5000, seed: int = 42, progress: bool = True,
                path: Path | None = None, stages: Collection[str] | None = None) -> DemoLogin:
    """Make sure this database holds the demo business; return the login to print.

    ``stages`` limits the run to those stage names (benchmarks and tests); by default all run.
    """
    path = path or state_path()
    data = _read(path)
    entry = _current_entry(data, customers=customers, seed=seed)
    say = print if progress else (lambda *_a, **_k: None)
    if entry["stages"] and (entry["customers"], entry["seed"]) != (customers, seed):
        say(f"Reusing the demo built with {entry['customers']:,} customers and seed {entry['seed']} "
            f"(delete {path} and the database to build another).")
    done = {name for name, record in entry["stages"].items() if record.get("done") or record.get("adopted")}
    missing = [stage for stage in STAGES if stage.name not in done and (stages is None or stage.name in stages)]
    if missing:
        say(f"Building the demo business «{CHAIN_NAME}»: {entry['customers']:,} customers, seed {entry['seed']}")
    started = time.perf_counter()
    for stage in missing:
        _run(stage, entry, data, path, progress=progress)
    if missing:
        say(f"Demo ready in {time.perf_counter() - started:.1f} s. Staff users (same password): "
            + ", ".join(f"{m.username} ({m.role}{', ' + m.team if m.team else ''})" for m in STAFF))
    data["databases"][database_key()] = entry
    _write(path, data)
    return DemoLogin(username=STAFF[0].username, password=entry["password"])


def _run(stage: Stage, entry: dict[str, Any], data: dict[str, Any], path: Path, *, progress: bool) -> None:
    record = entry["stages"].setdefault(stage.name, {})

    def checkpoint(state: dict[str, Any]) -> None:
        record["resume"] = state
        data["databases"][database_key()] = entry
        _write(path, data)

    ctx = DemoContext(seed=entry["seed"], customers=entry["customers"], anchor=date.fromisoformat(entry["anchor"]),
                      password=entry["password"], progress=progress, resume=dict(record.get("resume", {})),
                      checkpoint=checkpoint)
    counts, seconds = run_stage(stage, ctx)
    record.clear()
    record.update({"done": True, "seconds": round(seconds, 2), "rows": counts, "at": now().isoformat()})
    checkpoint_rows = sum(counts.values())
    ctx.log(f"  {stage.name:<10} {checkpoint_rows:>10,} rows in {seconds:6.1f} s  "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    data["databases"][database_key()] = entry
    _write(path, data)
