"""The PostgreSQL health check (core.postgresql_backend): no round trip on a sound connection, and a
connection the server has ended is found unusable and replaced before a request uses it."""

import select
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

pytestmark = [pytest.mark.skipif(not settings.IS_POSTGRES, reason="the PostgreSQL backend's own check"),
              pytest.mark.django_db]


@pytest.fixture
def wrapper() -> Iterator[BaseDatabaseWrapper]:
    """A second connection to the test database, as a server thread holds one between requests."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    other.ensure_connection()
    yield other
    other.close()


def _last_statement(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return str(cursor.fetchone()[0])


def test_a_sound_idle_connection_is_usable_without_a_statement(wrapper: BaseDatabaseWrapper) -> None:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 'last before the check'")
    assert wrapper.is_usable()
    assert _last_statement(wrapper.connection.info.backend_pid) == "SELECT 'last before the check'"


def test_a_connection_the_server_ended_is_replaced(wrapper: BaseDatabaseWrapper) -> None:
    pid = wrapper.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while not select.select([wrapper.connection.fileno()], [], [], 0.05)[0] and time.monotonic() < deadline:
        pass
    assert not wrapper.is_usable()
    # What Django does when a request starts on a reused connection (CONN_HEALTH_CHECKS).
    # django-stubs do not describe the health-check flags.
    wrapper.health_check_enabled, wrapper.health_check_done = True, False  # type: ignore[attr-defined]
    wrapper.close_if_health_check_failed()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_inside_a_transaction_the_server_is_asked(wrapper: BaseDatabaseWrapper) -> None:
    wrapper.set_autocommit(False)
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 'in a transaction'")
        assert wrapper.is_usable()
        assert _last_statement(wrapper.connection.info.backend_pid) == "SELECT 1"
    finally:
        wrapper.rollback()
        wrapper.set_autocommit(True)
