"""Settings for one bulk job (an import) that writes in many transactions."""

import contextlib
from collections.abc import Iterator
from typing import Any

WIDE_CHECKPOINT_PAGES = 16_384  # 64 MB of WAL with 4 KB pages


@contextlib.contextmanager
def bulk_writes(connection: Any) -> Iterator[None]:
    """SQLite: let the WAL grow to ``WIDE_CHECKPOINT_PAGES`` between checkpoints for the job.

    A batch of an import dirties thousands of scattered pages (figures and index pages of the customers
    it touches). With SQLite's default (a checkpoint whenever the WAL passes 1,000 pages) every commit
    copied its pages into the database file and synced it, and a page changed by several batches was
    written each time (4.9 GB written for a 500,000-line order import, 4.0 GB with this). At the end one
    checkpoint brings the file up to date, so the next small write does not pay for the import's.

    PostgreSQL is left as it is: there a batch's commit time is the deferred foreign-key checks of its
    rows (asynchronous commit was tried and saved nothing measurable). Inside a caller's transaction this
    does nothing.
    """
    if connection.in_atomic_block or connection.vendor != "sqlite" or connection.is_in_memory_db():
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    raw.execute(f"PRAGMA wal_autocheckpoint = {WIDE_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA wal_autocheckpoint = {int(before)}")
        raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
