"""Writers on a SQLite file queue for the write lock (core.sqlite_backend), across threads and processes.

These open their own database file, so they run the same whichever database the suite is on.
"""

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from clientbase.core.bulk import WIDE_CHECKPOINT_PAGES, bulk_writes
from clientbase.core.sqlite_backend.base import DatabaseWrapper


def _wrapper(path: Path, timeout: float = 5) -> DatabaseWrapper:
    settings: dict[str, Any] = {
        "ENGINE": "clientbase.core.sqlite_backend", "NAME": str(path), "USER": "", "PASSWORD": "", "HOST": "",
        "PORT": "", "TIME_ZONE": None, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False, "TEST": {},
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": timeout, "init_command": "PRAGMA journal_mode=WAL"}}
    return DatabaseWrapper(settings, alias=f"writers-{threading.get_ident()}")


def _write(wrapper: DatabaseWrapper, value: int, hold: float = 0) -> None:
    """What transaction.atomic does on SQLite: BEGIN (under autocommit), write, COMMIT or ROLLBACK."""
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("INSERT INTO t (v) VALUES (%s)", [value])
        time.sleep(hold)
        wrapper.commit()
    except BaseException:
        wrapper.rollback()
        raise
    finally:
        wrapper.set_autocommit(True)


def _count(path: Path) -> int:
    reader = _wrapper(path)
    with reader.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM t")
        count = int(cursor.fetchone()[0])
    reader.close()
    return count


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "writers.sqlite3"
    setup = _wrapper(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE t (v INTEGER NOT NULL)")
    setup.close()
    return path


def test_threads_writing_at_once_all_commit(db_file: Path) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        wrapper = _wrapper(db_file)
        try:
            for i in range(25):
                _write(wrapper, n * 100 + i, hold=0.001)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            wrapper.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _count(db_file) == 200


def _hold_in_another_process(path: str, started: Any, seconds: float) -> None:
    wrapper = _wrapper(Path(path))
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with wrapper.cursor() as cursor:
        cursor.execute("INSERT INTO t (v) VALUES (-1)")
    started.set()
    time.sleep(seconds)
    wrapper.commit()
    wrapper.set_autocommit(True)
    wrapper.close()


def test_a_writer_waits_for_another_process_then_gives_up_after_the_timeout(db_file: Path) -> None:
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    other = context.Process(target=_hold_in_another_process, args=(str(db_file), started, 1.0))
    other.start()
    try:
        assert started.wait(30)
        impatient = _wrapper(db_file, timeout=0.2)
        with pytest.raises(OperationalError, match="locked"):
            _write(impatient, 1)
        # The failed start released this process's queue: a patient writer gets in once the other commits.
        patient = _wrapper(db_file, timeout=10)
        _write(patient, 2)
        patient.close()
        impatient.close()
    finally:
        other.join(30)
    assert _count(db_file) == 2


def test_a_failed_transaction_releases_the_queue(db_file: Path) -> None:
    wrapper = _wrapper(db_file, timeout=0.5)
    with pytest.raises(Exception, match="NOT NULL"):
        _write(wrapper, None)  # type: ignore[arg-type]
    done = threading.Event()

    def another_thread() -> None:
        other = _wrapper(db_file, timeout=0.5)
        _write(other, 3)
        other.close()
        done.set()

    threading.Thread(target=another_thread).start()
    assert done.wait(5)
    assert _count(db_file) == 1
    wrapper.close()


def test_a_bulk_job_widens_the_checkpoint_interval_and_restores_it(db_file: Path) -> None:
    wrapper = _wrapper(db_file)

    def pragma(sql: str) -> tuple[Any, ...]:
        with wrapper.cursor() as cursor:
            cursor.execute(sql)
            return tuple(cursor.fetchone())

    with bulk_writes(wrapper):
        assert pragma("PRAGMA wal_autocheckpoint") == (WIDE_CHECKPOINT_PAGES,)
        for value in range(200):
            _write(wrapper, value)
    assert pragma("PRAGMA wal_autocheckpoint") == (1000,)
    wrapper.close()
    assert _count(db_file) == 200
