"""Several workers at once, for real: threads with their own database connections claim disjoint rows."""

import threading
import time

import pytest
from django.db import OperationalError, connection

from clientbase.engagement import outbox
from clientbase.engagement.models import Message
from clientbase.engagement.tests.builders import make_contact, make_message


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_never_claim_the_same_row(transactional_db: None) -> None:
    customer = make_contact()
    for _ in range(120):
        make_message(customer=customer, kind="transactional")
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claim(name: str) -> list[Message]:
        # SQLite's in-memory test database uses a shared cache whose table locks ignore the busy timeout
        # (a file database in WAL mode waits instead), so here a locked table is simply tried again.
        for _ in range(200):
            try:
                return outbox.claim(name, limit=7)
            except OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                time.sleep(0.005)
        raise TimeoutError(name)

    def work(name: str) -> None:
        try:
            mine: list[int] = []
            while batch := claim(name):
                mine.extend(m.pk for m in batch)
            claimed[name] = mine
        except BaseException as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    everything = [pk for ids in claimed.values() for pk in ids]
    assert len(everything) == len(set(everything)) == 120
    assert Message.objects.filter(status="sending").count() == 120
