"""Django's PostgreSQL backend with a health check that costs no round trip while the connection is fine.

Django's health check (``CONN_HEALTH_CHECKS``) sends ``SELECT 1`` before the first query of every request
that reuses a connection: a round trip, 0.1 ms of the server's CPU and 0.06 ms of PostgreSQL's, in a
single-event POST of about 7 ms (bench/RESULTS.md). An idle connection's socket has nothing to read
unless the server has spoken first: a server that restarts or ends the session (``pg_terminate_backend``,
``idle_session_timeout``) sends its FATAL message and closes, and either makes the socket readable. So
the check here looks at the socket without waiting; only when something is waiting there does it ask
the server as Django does, and a dead connection is replaced before the request uses it. A server that
vanished without closing (a cut cable) is not seen by either check until a query times out.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        if raw.info.transaction_status == pq.TransactionStatus.IDLE:
            # poll, not select: select fails on descriptors above 1023, which a busy process can reach.
            poller = select.poll()
            try:
                poller.register(raw.fileno(), select.POLLIN)
                waiting = poller.poll(0)
            except (OSError, ValueError):
                return False
            if not waiting:
                return True
        return bool(super().is_usable())
