"""Django's SQLite backend with writers that queue instead of sleeping.

Every transaction starts with ``BEGIN IMMEDIATE`` (settings), so writers take SQLite's write lock one at
a time. SQLite's own busy handler makes a blocked writer sleep 1, 2, 5, 10 … up to 100 ms between tries,
however soon the lock is free: with the server's threads and processes posting events at 200 requests/s,
those sleeps, not the work, made the 99th percentile hundreds of milliseconds. Here a writer first
queues on a lock shared by the threads of its process (woken the moment the previous one commits), then
takes SQLite's lock retrying every 0.1–1 ms, up to the configured ``timeout``, after which it fails
with "database is locked" as before. Reads are untouched (WAL lets them run beside a writer).
The queue is per database file and process: a thread that opened a write transaction and then starts a
second one on the same file through another connection waits for itself and fails after the timeout
(as it would have on SQLite's own lock). In-memory databases (the test suite's) skip all of this.
"""

import _thread
import sqlite3
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base

_process_writers: dict[str, _thread.LockType] = {}
_registry_lock = threading.Lock()


def _writer_lock(name: str) -> _thread.LockType:
    with _registry_lock:
        return _process_writers.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _holding: _thread.LockType | None = None

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        self._busy_seconds = float(params.get("timeout", 5))
        return params

    def _start_transaction_under_autocommit(self) -> None:
        # django-stubs do not describe the backend's private hooks overridden here.
        if self.transaction_mode != "IMMEDIATE" or self.is_in_memory_db():  # type: ignore[attr-defined]
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
            return
        deadline = time.monotonic() + self._busy_seconds
        lock = _writer_lock(str(self.settings_dict["NAME"]))
        if not lock.acquire(timeout=self._busy_seconds):
            raise self.Database.OperationalError("database is locked (another writer of this process held it)")
        self._holding = lock
        try:
            with self.wrap_database_errors:
                self._begin_immediate(deadline)
        except BaseException:
            self._release()
            raise

    def _begin_immediate(self, deadline: float) -> None:
        raw = self.connection
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            pause = 0.0001
            while True:
                try:
                    raw.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() + pause > deadline:
                        raise
                    time.sleep(pause)
                    pause = min(pause * 2, 0.001)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(self._busy_seconds * 1000)}")

    def _release(self) -> None:
        lock, self._holding = self._holding, None
        if lock is not None:
            lock.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._release()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release()
