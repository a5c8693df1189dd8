"""Reading a file ahead in a second thread while the first one writes to the database (imports).

An import spends its time in two places that can overlap: Python reading and parsing the file's
rows, and the database storing the previous batch. On PostgreSQL the importing thread mostly waits for
the server (psycopg releases the GIL while it waits), and a second thread can parse the next rows in
that time; the server works on the other core. ``ahead`` runs a generator of parsed records in such a
thread and hands them over in lists, in order, at most ``limit`` records ahead, so memory stays bounded.

The reading thread must not touch the database: Django's connections belong to their thread, so it
would work outside the import's transaction. Any query from it fails loudly (``_no_queries``).
Everything that writes, counts or reports stays in the caller's thread; the records carry what the
reader found (parsed rows and the problems of their cells) for the caller to settle in file order.

Every time the writing thread gets an answer from the server it needs the GIL back, and a reading
thread busy parsing keeps it until the interpreter's switch interval runs out: 5 ms by default, which
made each short query wait ~10 ms (2,000 ``SELECT 1`` took 21 s beside a busy thread instead of 0.15 s)
and the import no faster than without the reader. While a reader runs, the interval is 0.1 ms (the same
queries: 0.7 s); it is process-wide, set back when the last reader ends.

SQLite is left alone: its driver releases the GIL for every row it steps through, so the writing thread
would ask for the GIL back hundreds of thousands of times a batch.

Ingest uses two helpers of this module for a thread of another kind (``interactions.ingest.ingest_stream``,
on both databases): one that parses the next batch only from just before a batch's commit until it is
done, so it is idle while rows are written. ``quick_switching`` gives it the short switch interval and
``without_queries`` its guard against queries.
"""

import contextlib
import queue
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

from django.db import connection, connections

CHUNK = 1000  # records a handover


class _End:
    pass


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def worthwhile() -> bool:
    """Whether reading ahead pays off on this database (see the module docstring)."""
    return connection.vendor == "postgresql"


def ahead[T](records: Iterator[T], *, limit: int, chunk: int = CHUNK,
             enabled: bool | None = None) -> Generator[list[T], None, None]:
    """``records`` in lists of up to ``chunk``, in order; read by a second thread, at most about ``limit``
    records ahead of the caller, when ``enabled`` (by default: when ``worthwhile``). The reader's
    exceptions are raised here; if the caller stops early, the reader stops and closes ``records``."""
    if not (worthwhile() if enabled is None else enabled):
        yield from _chunks(records, chunk)
        return
    handover: queue.Queue[list[T] | _End | _Failed] = queue.Queue(maxsize=max(1, limit // chunk))
    stop = threading.Event()

    def read() -> None:
        try:
            for part in _chunks(records, chunk):
                if not _put(handover, part, stop):
                    return
            _put(handover, _End(), stop)
        except BaseException as error:  # handed to the caller, who raises it
            _put(handover, _Failed(error), stop)
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=without_queries, args=(read,), name="clientbase-read-ahead", daemon=True)
    with quick_switching():
        reader.start()
        try:
            while True:
                item = handover.get()
                if isinstance(item, _End):
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            stop.set()
            reader.join()


SWITCH_INTERVAL = 0.0001  # seconds; see the module docstring
_switching = threading.Lock()
_readers = 0
_interval_before = 0.0


def without_queries[**P, R](function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``function(*args, **kwargs)`` in a helper thread (``ahead``'s reader, ingest's parser), where any query
    fails loudly: it would run on the helper's own connection, outside the caller's transaction."""
    own = connections["default"]  # this thread's own connection: opened only if a query tried
    try:
        with own.execute_wrapper(_no_queries):
            return function(*args, **kwargs)
    finally:
        own.close()


@contextlib.contextmanager
def quick_switching() -> Iterator[None]:
    """The short switch interval (see the module docstring) while a helper thread may run: ``ahead``'s
    reader, ingest's parser. Process-wide; set back when the last one ends."""
    _readers_started()
    try:
        yield
    finally:
        _readers_ended()


def _readers_started() -> None:
    global _readers, _interval_before
    with _switching:
        if _readers == 0:
            _interval_before = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
        _readers += 1


def _readers_ended() -> None:
    global _readers
    with _switching:
        _readers -= 1
        if _readers == 0:
            sys.setswitchinterval(_interval_before)


def _chunks[T](records: Iterator[T], size: int) -> Iterator[list[T]]:
    part: list[T] = []
    for record in records:
        part.append(record)
        if len(part) >= size:
            yield part
            part = []
    if part:
        yield part


def _put(handover: "queue.Queue[Any]", item: Any, stop: threading.Event) -> bool:
    """Put ``item`` when there is room; False if the caller stopped reading meanwhile."""
    while not stop.is_set():
        try:
            handover.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


def _no_queries(*args: Any) -> Any:
    raise RuntimeError("A helper thread (an import's read-ahead, ingest's parser) must not query the database.")
