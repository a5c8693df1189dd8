"""Pausing Python's cyclic garbage collector around one batch of bulk work (ingest, imports)."""

import gc
from collections.abc import Generator, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

# The fewest items (events, rows) of a batch for which ``paused_for`` pauses the collector.
PAUSE_FROM = 1_000


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one batch.

    A batch allocates hundreds of thousands of containers that live until it ends (parsed events or
    rows, results, rows to insert); each allocation burst triggered collections that walked them again
    and again, about 40% of a 5,000-event ingest batch. Memory is bounded by the batch. At the end one
    young-generation collection frees the batch's cycles, so the batch pays for its own garbage once
    (and whoever times the batch sees that cost). Left alone if the caller paused it already.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def paused_for(items: int) -> AbstractContextManager[None]:
    """``paused`` for a batch of at least ``PAUSE_FROM`` items; below that the collector runs as usual.

    A small batch (an API request of one or a few events) gains nothing measurable from the pause, and
    ``paused``'s closing young collection costs it: it runs while the request's objects are still alive
    and moves them to an older generation, where those left in reference cycles (Django's request and
    response have some) wait for a full collection. In ``clientbase serve`` at 200 single-event requests
    a second that piled up 390,000-770,000 dead objects per worker in 80 s, which a full collection
    then took 0.9-1.7 s to walk, stopping every thread of that worker (bench/RESULTS.md, fourteenth
    session). The collector is also one per process: a pause in one request thread paused it for the
    others. Left to itself, the young collections free those cycles while they are young.
    """
    return paused() if items >= PAUSE_FROM else nullcontext()


# Over a stream: the most batches between two young-generation collections, and how many unreachable
# objects a collection may find for the next one to wait twice as long.
_LONGEST_WAIT = 64
_LITTLE_GARBAGE = 10_000


def paused_over[T](batches: Iterable[T]) -> Generator[T, None, None]:
    """``batches`` one by one, the collector paused from the first to the last (a stream of ingest batches).

    ``paused`` collects the young generation when its block ends, while the batch's objects are still
    alive, so every batch paid for walking all of them once (12 ms of a 5,000-event batch) to free next to
    nothing: an ingest batch's objects die by reference counting and leave no cycles. Over a stream the
    collections are spaced out instead, between two batches: after one that finds little garbage the next
    waits twice as many batches (up to ``_LONGEST_WAIT``), after one that finds more the next comes after
    the next batch. Each collects the two younger generations, so a cycle still alive at one collection
    and dead by the next is freed then. What cycles can pile up is what ``_LONGEST_WAIT`` batches leave
    (counted in the collector's tracked objects, not bytes), and a stream that keeps leaving some (say, of
    rejected events' exceptions) is collected after every batch. A collection still walks what is alive
    at that moment (the report in the consumer's hands, the next batch being parsed): that cost is now
    paid once in up to ``_LONGEST_WAIT`` batches. Left alone if the caller paused the collector already.
    """
    if not gc.isenabled():
        yield from batches
        return
    gc.disable()
    wait, waited = 1, 0
    try:
        for batch in batches:
            yield batch
            del batch
            waited += 1
            if waited >= wait:
                found = gc.collect(1)
                wait, waited = (min(2 * wait, _LONGEST_WAIT) if found < _LITTLE_GARBAGE else 1), 0
    finally:
        gc.enable()
