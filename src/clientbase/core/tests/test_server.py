"""``clientbase serve`` as a user runs it: its own process on a real port, the production static files."""

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from clientbase.engagement.tests.servers import free_port
from clientbase.server import WithoutProcessEnvironment


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "clientbase.cli", *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; workers end with their parent on Linux")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, str, subprocess.Popen[str], Path]]:
    """A server over a new database of its own (on PostgreSQL a new one beside the test database, which
    is built without migrations), with an admin token. No CLIENTBASE_ setting of the caller's reaches it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTBASE_")}
    env["CLIENTBASE_HOME"] = str(tmp_path / "home")
    database = connection.settings_dict
    if connection.vendor != "postgresql":
        yield from _serve(env, tmp_path)
        return
    own = f"{database['TEST'].get('NAME') or 'test_clientbase'}_serve"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(own))
    with psycopg.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                         password=database["PASSWORD"], dbname="postgres", autocommit=True) as admin:
        try:
            admin.execute(drop)
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(own)))
            user = quote(database["USER"], safe="") + (f":{quote(database['PASSWORD'], safe='')}"
                                                       if database["PASSWORD"] else "")
            env["CLIENTBASE_DATABASE_URL"] = f"postgres://{user}@{database['HOST']}:{database['PORT']}/{own}"
            yield from _serve(env, tmp_path)
        finally:
            admin.execute(drop)


def _serve(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[int, str, subprocess.Popen[str], Path]]:
    _cli(env, "init", "--username", "owner", "--password", "owner-password-1")
    token = _cli(env, "createuser", "till", "--role", "admin", "--token").strip().splitlines()[-1]
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "clientbase.cli", "serve", "--port", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            try:
                if _request(port, "GET", "/login/")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.time() < deadline, log.read_text()
            time.sleep(0.2)
        yield port, token, server, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # the server and its workers, whatever the test left
        server.wait()


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry))
    return found


def test_serve_answers_pages_static_files_and_the_api_and_stops_on_sigterm(
        served: tuple[int, str, subprocess.Popen[str], Path]) -> None:
    port, token, server, log = served
    assert len(_children(server.pid)) >= 2  # the worker processes

    status, _, page = _request(port, "GET", "/login/")
    assert status == 200
    stylesheet = re.search(rb'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, page[:2000]
    status, headers, css = _request(port, "GET", stylesheet.group(1).decode(), headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert "immutable" in headers["cache-control"]  # a hashed name never changes its content

    event = {"id": "till-1", "source": "till", "type": "visit", "occurred_at": "2026-11-01T10:15:00+03:00",
             "channel": "pos", "identifiers": {"phone": "+79161234567"}}
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(item: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, _, body = _request(port, "POST", "/api/v1/events", json.dumps(item).encode(), auth)
        return status, json.loads(body)

    status, answer = post(event)
    assert status == 200 and answer["results"][0]["status"] == "created", answer["results"][0].get("errors")
    customer = answer["results"][0]["customer_id"]
    with ThreadPoolExecutor(8) as pool:  # concurrent requests for one person: one customer, no lost event
        answers = list(pool.map(post, [{**event, "id": f"till-{n}"} for n in range(2, 26)]))
    assert {(s, a["results"][0]["status"], a["results"][0]["customer_id"]) for s, a in answers} == {
        (200, "created", customer)}
    assert post(event)[1]["results"][0]["status"] == "duplicate"
    assert _request(port, "POST", "/api/v1/events", b"{}", {**auth, "Authorization": "Bearer cb_wrong"})[0] == 401

    workers = _children(server.pid)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    assert not [pid for pid in workers if _alive(pid)]
    assert '"POST /api/v1/events HTTP/1.1" 200' in log.read_text()  # the access log


def test_the_workers_end_when_the_server_is_killed(served: tuple[int, str, subprocess.Popen[str], Path]) -> None:
    port, _, server, _ = served
    workers = _children(server.pid)
    assert workers
    server.kill()  # SIGKILL: no chance to stop its workers itself
    server.wait()
    deadline = time.time() + 10
    while any(_alive(pid) for pid in workers):
        assert time.time() < deadline, "a worker outlived its server"
        time.sleep(0.1)
    with pytest.raises(OSError):
        _request(port, "GET", "/login/")


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_requests_do_not_carry_the_process_environment() -> None:
    seen: list[dict[str, Any]] = []
    app = WithoutProcessEnvironment(lambda environ, start: seen.append(dict(environ)),
                                    {"CLIENTBASE_DATABASE_URL": "postgres://till:secret@db/crm", "HTTP_PROXY": "p:3128",
                                     "HTTP_X_TEAM": "north", "PATH_INFO": "/from-the-shell"})
    # As granian builds it: the process environment, then the request's own variables over it.
    app({"CLIENTBASE_DATABASE_URL": "postgres://till:secret@db/crm", "HTTP_PROXY": "p:3128", "HTTP_X_TEAM": "south",
         "PATH_INFO": "/api/v1/events", "REQUEST_METHOD": "POST", "HTTP_HOST": "crm"}, None)
    assert seen == [{"HTTP_X_TEAM": "south", "PATH_INFO": "/api/v1/events", "REQUEST_METHOD": "POST",
                     "HTTP_HOST": "crm"}]
