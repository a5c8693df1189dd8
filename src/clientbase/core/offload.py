"""Working through a long stream in a second process, in order, one item ahead of the caller.

A bulk job (``clientbase ingest FILE``) is bound by the one thread that writes: its work is serial, and
on SQLite the database's own work runs in it too. A helper *thread* that prepares the next item (reads
and parses a batch) shares the GIL with it, so what the helper does is paid for in the writer's wall
time all the same: a million events on SQLite took 85.2 s with the parse in a helper thread and 66.0 s
with every batch parsed before the clock started (bench/RESULTS.md, eighteenth session). A process
has a GIL of its own, and the machine's other core.

``Offloaded(items)`` starts a process that iterates ``items`` (an iterable whose iteration does the
work: reading a JSON-lines file and parsing its batches) and sends each item back pickled, or, where
the caller says the items are made of Python's plain types (``plain``: tuples, lists, dicts, sets,
texts, numbers, None; no bytes-like object but ``bytes``, which marshal would turn into ``bytes``), by
``marshal``, and pickled only if marshal refuses an object in one: for a batch of parsed events marshal
takes 1.5 µs an event to write where pickle took 2.4, and 2.6 µs to read and free where pickle took
3.0 (both processes run the same interpreter, which marshal's format needs). The caller
takes them with ``receive()`` in order; ``None`` marks the end. The pipe holds one item: the process
prepares the next one while the caller works on this one, and then waits.

The process runs at a lower priority (nice 10): where the machine's cores are short, the writer comes
first. It is started with ``spawn``, a fresh interpreter that sets Django up again (about a second):
forking a process that holds database connections and threads is not safe. It never touches the
database. ``items`` travels pickled and is unpickled after Django is set up, so it may be of any class
importable then. An error in the process is raised here, by ``receive``, with its traceback's
text; the process ends with the ``with`` block however that ends.
"""

import contextlib
import marshal
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Iterable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

# An item's message: one of these bytes, then the item marshalled or pickled. The end and a failure go as
# pickled (kind, answer) pairs, which start with neither (a pickle starts with its protocol's byte, 0x80).
_MARSHALLED, _PICKLED = b"M", b"P"


class OffloadFailed(RuntimeError):
    """The process failed: its exception's text, then its traceback."""


def _serve(pipe: Connection, job: bytes, plain: bool) -> None:
    """The process: set Django up, then send on each item of the pickled iterable ``job`` (by ``marshal``
    if ``plain``)."""
    import gc

    from clientbase.cli import setup_django

    try:
        setup_django()
        os.nice(10)
        # Each item's objects die by reference counting; the collector would only walk them again and again.
        gc.disable()
        for item in pickle.loads(job):
            pipe.send_bytes(_message(item, plain))
        pipe.send_bytes(pickle.dumps(("end", None)))
    except BaseException as exc:  # handed to the caller, who raises it
        with contextlib.suppress(OSError):  # else the caller has gone: nobody to tell
            pipe.send_bytes(pickle.dumps(("failed", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")))
    finally:
        pipe.close()


def _message(item: Any, plain: bool) -> bytes:
    if plain:
        try:
            return _MARSHALLED + marshal.dumps(item)
        except ValueError:  # an object marshal does not write (a date among an event's traits)
            pass
    return _PICKLED + pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)


class Offloaded:
    """The items of ``items``, made in a second process; see the module."""

    def __init__(self, items: Iterable[Any], *, plain: bool = False) -> None:
        self._job = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        self._plain = plain
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None
        self._ended = False

    def __enter__(self) -> "Offloaded":
        context = multiprocessing.get_context("spawn")
        self._pipe, theirs = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(theirs, self._job, self._plain),
                                        name="clientbase-offload", daemon=True)
        self._process.start()
        theirs.close()  # the process holds its end: when it exits, a receive here ends instead of waiting
        return self

    def receive(self) -> Any:
        """The next item, or None after the last one."""
        assert self._pipe is not None and self._process is not None, "use Offloaded in a with block"
        if self._ended:
            return None
        try:
            message = self._pipe.recv_bytes()
        except EOFError:
            self._process.join(5)
            raise OffloadFailed(f"The helper process ended without an answer (exit code {self._process.exitcode}).") \
                from None
        if message.startswith(_MARSHALLED):
            return marshal.loads(memoryview(message)[1:])
        if message.startswith(_PICKLED):
            return pickle.loads(memoryview(message)[1:])
        kind, answer = pickle.loads(message)
        if kind == "failed":
            raise OffloadFailed(answer)
        self._ended = True  # "end"
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._pipe is not None:
            self._pipe.close()  # a process still sending gets an error and ends
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()
