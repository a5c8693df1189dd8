"""Settings for one bulk job (an import, an ingest) that writes in many transactions."""

import contextlib
from collections.abc import Iterator, Sequence
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


FIRST_ANALYSIS_PAGES = 128  # 1 MB with 8 KB pages: reading a smaller table whole costs well under a millisecond


class FirstAnalyses:
    """PostgreSQL: the planner's first statistics of tables a bulk job fills from empty.

    A table nobody has analysed or vacuumed (``pg_class.reltuples`` is -1) has no row count, so the
    planner guesses one from its size and the width its columns might take: for customers, two rows a
    page where there are dozens. A job filling fresh tables then read whole tables, batch after batch, to
    find a few hundred rows by primary key or by an indexed column: merges' updates of customers,
    identifiers and events by id, the customers' fetch of a merge round, the loyalty probe's customers
    merged into others. In a million events, 316 sequential scans of customers read 20.8 M rows
    (bench/RESULTS.md, twenty-second session). ``autovacuum`` would analyse the tables in time, but it may
    be off (as on the machine the benchmarks ran on), and it wakes once a minute at most: most of a job.

    Calling this (between a job's batches) analyses each of ``tables`` that has never been analysed once
    it has grown to ``pages`` pages (``FIRST_ANALYSIS_PAGES``). Once is enough: the planner scales the
    counted rows by the table's current size, so the estimates grow with the table. A table analysed or
    vacuumed before (by anyone) is left to ``autovacuum``. Nothing happens on SQLite, whose planner uses
    an index whenever one fits.
    """

    def __init__(self, connection: Any, tables: Sequence[str], *, pages: int | None = None) -> None:
        self.connection = connection
        self.pending = list(tables) if connection.vendor == "postgresql" else []
        self.pages = FIRST_ANALYSIS_PAGES if pages is None else pages

    def __call__(self) -> list[str]:
        """Analyse the tables that are due; returns their names (most calls: none, one cheap query)."""
        if not self.pending:
            return []
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT relname, reltuples >= 0, pg_relation_size(oid) >= %s * current_setting('block_size')::int "
                           "FROM pg_class WHERE oid = ANY(%s::regclass[])", [self.pages, self.pending])
            found = cursor.fetchall()
            due = [name for name, counted, big in found if not counted and big]
            self.pending = [name for name, counted, big in found if not counted and not big]
            for name in due:
                cursor.execute(f"ANALYZE {self.connection.ops.quote_name(name)}")
        return due
