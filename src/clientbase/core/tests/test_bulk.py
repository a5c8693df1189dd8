"""A bulk job's first statistics (core.bulk.FirstAnalyses): on PostgreSQL a table nobody has analysed is
analysed once, when it has grown to the threshold; never again, and never a table analysed before."""

import pytest
from django.conf import settings
from django.db import connection

from clientbase.core.bulk import FirstAnalyses

pytestmark = pytest.mark.django_db


def _fresh_table(name: str, rows: int) -> None:
    """A table of its own (gone with the test's transaction), as a migration leaves one: never analysed."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {name} (id bigint PRIMARY KEY, note text)")
        if rows:
            cursor.execute(f"INSERT INTO {name} SELECT n, repeat('x', 200) FROM generate_series(1, %s) AS n", [rows])


def _counted(name: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [name])
        return float(cursor.fetchone()[0])


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="PostgreSQL's planner statistics")
def test_a_never_analysed_table_is_analysed_once_when_it_has_grown() -> None:
    _fresh_table("bulk_grown", 2_000)  # about 60 pages of 8 KB
    _fresh_table("bulk_small", 10)
    assert _counted("bulk_grown") == -1  # the planner knows no row count
    analyse = FirstAnalyses(connection, ["bulk_grown", "bulk_small"], pages=16)
    assert analyse() == ["bulk_grown"]
    assert _counted("bulk_grown") == 2_000
    assert _counted("bulk_small") == -1  # too small to matter yet: still waiting
    assert analyse() == []  # nothing grew
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bulk_small SELECT n, repeat('x', 200) FROM generate_series(11, 3000) AS n")
        cursor.execute("INSERT INTO bulk_grown SELECT n, repeat('x', 200) FROM generate_series(2001, 9000) AS n")
    # The small one has grown: its turn. The one analysed before is not analysed again (autovacuum's job).
    assert analyse() == ["bulk_small"]
    assert _counted("bulk_grown") == 2_000
    assert analyse.pending == []


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="PostgreSQL's planner statistics")
def test_a_table_analysed_before_is_left_alone() -> None:
    _fresh_table("bulk_known", 2_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bulk_known")
        cursor.execute("INSERT INTO bulk_known SELECT n, repeat('x', 200) FROM generate_series(2001, 4000) AS n")
    analyse = FirstAnalyses(connection, ["bulk_known"], pages=16)
    assert analyse() == []
    assert _counted("bulk_known") == 2_000  # as its analysis left it
    assert analyse.pending == []


@pytest.mark.skipif(settings.IS_POSTGRES, reason="SQLite")
def test_nothing_is_asked_on_sqlite() -> None:
    analyse = FirstAnalyses(connection, ["interactions_event"], pages=0)
    assert analyse.pending == []
    assert analyse() == []
