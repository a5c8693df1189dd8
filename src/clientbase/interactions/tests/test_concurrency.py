"""Two processes ingesting overlapping batches at once end like one process ingesting them in order."""

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from clientbase.access.actor import SYSTEM
from clientbase.customers.models import Customer
from clientbase.identity.merges import merge_customers
from clientbase.identity.models import Identifier
from clientbase.identity.tests.test_properties import _components
from clientbase.identity.unmerge import unmerge
from clientbase.interactions import ingest as ingest_module
from clientbase.interactions.models import Event
from clientbase.interactions.tests.builders import ingest, make_event

WORKER = """
import json, sys
from clientbase.cli import setup_django
setup_django()
from clientbase.access.actor import SYSTEM
from clientbase.interactions.ingest import ingest_events, ingest_stream
events = json.load(open(sys.argv[1]))
size = int(sys.argv[2])
batches = [events[start:start + size] for start in range(0, len(events), size)]
if sys.argv[3] == "stream":  # the path of `clientbase ingest FILE`: a transaction a batch, parsing during commits
    for _ in ingest_stream(iter(batches), actor=SYSTEM):
        pass
else:
    for batch in batches:
        ingest_events(batch, actor=SYSTEM)
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


POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writers with IMMEDIATE transactions; the race needs PostgreSQL")


# Batch sizes of the two processes: 1 is the single-event path (shared-mode identity locks), 7 a small
# batch (one group: shared mode too), 40 a batch of 80 identifiers (the exclusive lock), so single
# events also race a bulk writer. "stream" is the file ingest's path (every batch in its own transaction
# under the exclusive lock), racing another stream and single events.
@POSTGRES_ONLY
@pytest.mark.parametrize(("paths", "sizes"), [
    (("events", "events"), (7, 7)), (("events", "events"), (1, 1)), (("events", "events"), (1, 40)),
    (("stream", "stream"), (7, 40)), (("events", "stream"), (1, 7))])
@pytest.mark.django_db(transaction=True)
def test_parallel_overlapping_ingest_matches_sequential(tmp_path: Path, transactional_db: None,
                                                        paths: tuple[str, str], sizes: tuple[int, int]) -> None:
    events, sets = _events()
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(events[:40]))
    second.write_text(json.dumps(list(reversed(events[20:]))))
    settings = connection.settings_dict
    env = {**os.environ, "CLIENTBASE_DATABASE_URL":
           f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), str(size), how], env=env)
               for path, size, how in zip((first, second), sizes, paths, strict=True)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    assert Event.objects.count() == len(events)
    groups: dict[int, set[str]] = {}
    for customer_id, kind, value in Identifier.objects.values_list("customer_id", "kind", "value"):
        groups.setdefault(customer_id, set()).add(f"{kind}:{value}")
    assert {frozenset(g) for g in groups.values()} == _components(sets)
    live = set(Customer.objects.filter(merged_into__isnull=True).values_list("pk", flat=True))
    assert set(groups) == live
    assert set(Event.objects.values_list("customer_id", flat=True)) <= live


def _in_thread(work: Callable[[], Any], name: str = "writer") -> tuple[threading.Thread, list[Any]]:
    """Run ``work`` on its own database connection; its result (or exception) lands in the list."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        except Exception as exc:  # noqa: BLE001 - handed to the test to raise
            out.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, out


def _customer_of(event: dict[str, Any]) -> int:
    customer_id = ingest(event).results[0].customer_id
    assert customer_id is not None
    return customer_id


def _paused_writer(work: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Start ``work`` in a thread that stops after its writes, before its commit, until released.

    Returns (wrote, release)."""
    wrote, release = threading.Event(), threading.Event()
    original = ingest_module.apply_group

    def apply_then_wait(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        if threading.current_thread().name == "paused":
            wrote.set()
            assert release.wait(30)

    monkeypatch.setattr(ingest_module, "apply_group", apply_then_wait)
    _in_thread(work, name="paused")
    return wrote, release


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_single_event_waits_for_a_merge_of_its_customer_and_follows_it(
        transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """An event for customer 2 (by an identifier no other event carries) that arrives while another event
    merges 2 into 1 waits for that merge, then goes to 1: not to the tombstone."""
    first = _customer_of(make_event(identifiers={"phone": "+79160000001"}))
    second = _customer_of(make_event(identifiers={"phone": "+79160000002", "email": "d@x.ru"}))
    wrote, release = _paused_writer(
        lambda: ingest(make_event(identifiers={"phone": ["+79160000001", "+79160000002"]})), monkeypatch)
    assert wrote.wait(30)
    thread, out = _in_thread(lambda: ingest(make_event(id="late", identifiers={"email": "d@x.ru"})))
    thread.join(0.5)
    assert thread.is_alive()  # waiting for customer 2's lock
    release.set()
    thread.join(30)
    [report] = out
    assert report.results[0].customer_id == first
    assert Event.objects.get(external_id="late").customer_id == first
    assert Customer.objects.get(pk=second).merged_into_id == first
    assert not Event.objects.filter(customer_id=second).exists()


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_two_single_events_with_one_new_identifier_make_one_customer(
        transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    wrote, release = _paused_writer(lambda: ingest(make_event(identifiers={"phone": "+79160000003"})), monkeypatch)
    assert wrote.wait(30)
    thread, out = _in_thread(lambda: ingest(make_event(identifiers={"phone": "+79160000003",
                                                                    "email": "new@x.ru"})))
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the phone's lock
    release.set()
    thread.join(30)
    assert out[0].results[0].status == "created"
    assert Customer.objects.count() == 1
    assert sorted(Identifier.objects.values_list("kind", flat=True)) == ["email", "phone"]


@POSTGRES_ONLY
@pytest.mark.django_db(transaction=True)
def test_single_event_waits_for_an_unmerge(transactional_db: None) -> None:
    """Unmerge takes the exclusive identity lock: an event for the absorbed side arriving meanwhile waits,
    then goes to the customer the unmerge gave that identifier back to."""
    older = _customer_of(make_event(identifiers={"phone": "+79160000004"}))
    newer = _customer_of(make_event(identifiers={"email": "u@x.ru"}))
    merge = merge_customers(Customer.objects.get(pk=older), Customer.objects.get(pk=newer), actor=SYSTEM)
    unmerged, release = threading.Event(), threading.Event()

    def undo() -> None:
        with transaction.atomic():
            unmerge(merge, actor=SYSTEM)
            unmerged.set()
            assert release.wait(30)

    writer, _ = _in_thread(undo)
    assert unmerged.wait(30)
    thread, out = _in_thread(lambda: ingest(make_event(id="during", identifiers={"email": "u@x.ru"})))
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the identity lock
    release.set()
    writer.join(30)
    thread.join(30)
    assert out[0].results[0].customer_id == newer
    assert Event.objects.get(external_id="during").customer_id == newer
