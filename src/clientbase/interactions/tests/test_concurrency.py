"""Two processes ingesting overlapping batches at once end like one process ingesting them in order."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from clientbase.customers.models import Customer
from clientbase.identity.models import Identifier
from clientbase.identity.tests.test_properties import _components
from clientbase.interactions.models import Event

WORKER = """
import json, sys
from clientbase.cli import setup_django
setup_django()
from clientbase.access.actor import SYSTEM
from clientbase.interactions.ingest import ingest_events
events = json.load(open(sys.argv[1]))
for start in range(0, len(events), 7):
    ingest_events(events[start:start + 7], actor=SYSTEM)
"""


def _events() -> tuple[list[dict[str, Any]], list[tuple[list[str], list[str]]]]:
    sets = []
    for i in range(60):
        # Chains phone i -> email i -> phone i+1 within blocks of 6: merges whichever process comes first.
        sets.append(([f"+7916100{i:04d}"], [f"c{i - i % 2}@x.ru"] if i % 3 else [f"c{i + 1}@x.ru"]))
    events = [{"id": f"c{i}", "source": "conc", "type": "visit", "channel": "web",
               "occurred_at": "2026-11-01T10:00:00+00:00", "identifiers": {"phone": p, "email": e}}
              for i, (p, e) in enumerate(sets)]
    return events, sets


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers with IMMEDIATE transactions; the race needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_parallel_overlapping_ingest_matches_sequential(tmp_path: Path, transactional_db: None) -> None:
    events, sets = _events()
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(events[:40]))
    second.write_text(json.dumps(list(reversed(events[20:]))))
    settings = connection.settings_dict
    env = {**os.environ, "CLIENTBASE_DATABASE_URL":
           f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(path)], env=env) for path in (first, second)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    assert Event.objects.count() == len(events)
    groups: dict[int, set[str]] = {}
    for customer_id, kind, value in Identifier.objects.values_list("customer_id", "kind", "value"):
        groups.setdefault(customer_id, set()).add(f"{kind}:{value}")
    assert {frozenset(g) for g in groups.values()} == _components(sets)
    live = set(Customer.objects.filter(merged_into__isnull=True).values_list("pk", flat=True))
    assert set(groups) == live
    assert set(Event.objects.values_list("customer_id", flat=True)) <= live
