"""The garbage collector paused around bulk work: ``paused`` for one batch, ``paused_over`` for a stream."""

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from clientbase.core import collector


class Node:
    """An object in a reference cycle with itself: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collections() -> Iterator[list[dict[str, Any]]]:
    """The collections of the young generations that run during the test (gc.callbacks' info at each stop)."""
    seen: list[dict[str, Any]] = []

    def record(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] <= 1:
            seen.append(info)

    assert gc.isenabled()
    gc.collect()
    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)
    assert gc.isenabled()


def test_paused_collects_the_young_generation_once_at_the_end(collections: list[dict[str, Any]]) -> None:
    with collector.paused():
        assert not gc.isenabled()
        garbage = [Node() for _ in range(5000)]
        del garbage
    assert gc.isenabled()
    assert len(collections) == 1
    assert collections[0]["generation"] == 0
    assert collections[0]["collected"] >= 5000


def test_paused_leaves_a_paused_collector_alone(collections: list[dict[str, Any]]) -> None:
    gc.disable()
    try:
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert collections == []


def test_paused_for_a_small_batch_leaves_the_collector_running(collections: list[dict[str, Any]]) -> None:
    with collector.paused_for(collector.PAUSE_FROM - 1):
        assert gc.isenabled()
        # A request's objects still alive when its block ends: no collection is forced on them here.
        alive = [Node() for _ in range(100)]
    assert collections == []
    del alive


def test_paused_for_a_big_batch_pauses_and_collects_once(collections: list[dict[str, Any]]) -> None:
    with collector.paused_for(collector.PAUSE_FROM):
        assert not gc.isenabled()
    assert gc.isenabled()
    assert [c["generation"] for c in collections] == [0]


def test_paused_over_keeps_the_collector_paused_while_the_consumer_works(collections: list[dict[str, Any]]) -> None:
    states = [gc.isenabled() for _ in collector.paused_over(range(3))]
    assert states == [False, False, False]
    assert gc.isenabled()


def test_paused_over_spaces_collections_out_while_batches_leave_no_cycles(
        collections: list[dict[str, Any]]) -> None:
    def batches() -> Iterator[list[list[int]]]:
        for n in range(20):
            yield [[n, i] for i in range(1000)]  # containers the collector tracks, freed by reference counting

    for _ in collector.paused_over(batches()):
        pass
    # After batches 1, 3, 7 and 15: each wait twice the one before.
    assert len(collections) == 4
    assert all(c["collected"] < 10 for c in collections)


def test_paused_over_waits_at_most_the_longest_wait_then_comes_back_after_garbage(
        collections: list[dict[str, Any]]) -> None:
    longest = collector._LONGEST_WAIT
    after: list[int] = []  # the batch each collection followed

    def batches() -> Iterator[int]:
        for n in range(1, 4 * longest + 3):
            if n == 2 * longest:  # one batch leaves many cycles
                garbage = [Node() for _ in range(collector._LITTLE_GARBAGE)]
                del garbage
            yield n
            after.extend([n] * (len(collections) - len(after)))

    for _ in collector.paused_over(batches()):
        pass
    waits = [b - a for a, b in zip([0, *after], after, strict=False)]
    assert waits[:7] == [1, 2, 4, 8, 16, 32, longest]  # doubling, then capped
    garbage_at = next(i for i, c in enumerate(collections) if c["collected"] >= collector._LITTLE_GARBAGE)
    assert after[garbage_at] <= 2 * longest + longest  # found within one longest wait
    assert waits[garbage_at + 1] == 1  # and the next collection comes after the next batch


def test_paused_over_collects_after_every_batch_that_leaves_cycles(collections: list[dict[str, Any]]) -> None:
    freed_before: list[bool] = []
    previous: list[weakref.ref[Node]] = []

    def batches() -> Iterator[int]:
        for n in range(5):
            # Each batch first checks that the cycles of the one before it are gone.
            freed_before.append(all(ref() is None for ref in previous))
            nodes = [Node() for _ in range(collector._LITTLE_GARBAGE)]
            previous[:] = [weakref.ref(nodes[0]), weakref.ref(nodes[-1])]
            del nodes
            yield n

    assert list(collector.paused_over(batches())) == [0, 1, 2, 3, 4]
    assert freed_before == [True, True, True, True, True]
    assert len(collections) == 5
    assert all(c["collected"] >= collector._LITTLE_GARBAGE for c in collections)


def test_paused_over_resumes_the_collector_when_the_consumer_stops_early(collections: list[dict[str, Any]]) -> None:
    stream = collector.paused_over(iter(range(10)))
    assert next(stream) == 0
    assert not gc.isenabled()
    stream.close()
    assert gc.isenabled()


def test_paused_over_leaves_a_paused_collector_alone(collections: list[dict[str, Any]]) -> None:
    gc.disable()
    try:
        assert list(collector.paused_over(range(3))) == [0, 1, 2]
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert collections == []
