"""The read-ahead thread of imports: order kept, memory bounded, errors raised, no database access; and
the helpers ingest uses for its parsing thread."""

import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from clientbase.core import readahead
from clientbase.customers.models import Customer


def _flat(chunks: Iterator[list[int]]) -> list[int]:
    return [record for chunk in chunks for record in chunk]


@pytest.mark.parametrize("enabled", [True, False])
def test_records_arrive_in_order_in_chunks(enabled: bool) -> None:
    chunks = list(readahead.ahead(iter(range(2500)), limit=1000, enabled=enabled))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert _flat(iter(chunks)) == list(range(2500))


def test_the_reader_stays_at_most_about_limit_records_ahead() -> None:
    read = []

    def records() -> Iterator[int]:
        for i in range(100_000):
            read.append(i)
            yield i

    chunks = readahead.ahead(records(), limit=3000, enabled=True)
    first = next(chunks)
    time.sleep(0.3)  # the reader fills the hand-over and waits
    # The chunk taken, three waiting in the hand-over, one the reader holds ready and one being read.
    assert len(first) == readahead.CHUNK
    assert 3 * readahead.CHUNK <= len(read) <= 6 * readahead.CHUNK
    chunks.close()


def test_a_reader_error_is_raised_to_the_caller_after_the_records_before_it() -> None:
    def records() -> Iterator[int]:
        yield from range(1500)
        raise ValueError("row 1501: broken file")

    got: list[int] = []
    with pytest.raises(ValueError, match="row 1501"):
        for chunk in readahead.ahead(records(), limit=5000, enabled=True):
            got += chunk
    assert got == list(range(1000))  # the last, partial chunk never made it: the error came first


def test_stopping_early_stops_the_reader_closes_the_source_and_restores_the_switch_interval() -> None:
    closed = threading.Event()
    before = sys.getswitchinterval()

    def records() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    chunks = readahead.ahead(records(), limit=2000, enabled=True)
    next(chunks)
    assert sys.getswitchinterval() == pytest.approx(readahead.SWITCH_INTERVAL)  # short while a reader runs
    chunks.close()
    assert closed.is_set()
    assert sys.getswitchinterval() == before
    assert not [t for t in threading.enumerate() if t.name == "clientbase-read-ahead"]


def test_the_reader_may_not_query_the_database() -> None:
    def records() -> Iterator[int]:
        yield Customer.objects.count()

    with pytest.raises(RuntimeError, match="must not query the database"):
        list(readahead.ahead(records(), limit=1000, enabled=True))


def test_a_helper_thread_may_not_query_the_database() -> None:
    with ThreadPoolExecutor(max_workers=1) as helper:
        assert helper.submit(readahead.without_queries, sorted, [3, 1, 2]).result() == [1, 2, 3]
        with pytest.raises(RuntimeError, match="must not query the database"):
            helper.submit(readahead.without_queries, Customer.objects.count).result()


def test_quick_switching_shortens_the_switch_interval_while_it_lasts() -> None:
    before = sys.getswitchinterval()
    with readahead.quick_switching():
        assert sys.getswitchinterval() == pytest.approx(readahead.SWITCH_INTERVAL)
    assert sys.getswitchinterval() == before
