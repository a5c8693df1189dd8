"""``clientbase serve``: granian in-process (docs/adr/0002-granian.md), static files collected once and
served by whitenoise."""

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Mapping
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management import call_command
from granian.constants import HTTPModes, Interfaces
from granian.server import Server

THREADS = 4  # Python threads per worker process running requests
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Request variables granian may set; anything else the process environment holds is not the request's.
_CGI = {"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
        "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE", "GATEWAY_INTERFACE", "REMOTE_ADDR",
        "REMOTE_PORT", "REQUEST_URI", "RAW_URI"}


def application(_target: str) -> Any:
    """The WSGI application, for each worker (a module-level function: granian may pickle it)."""
    from clientbase.wsgi import application

    parent = multiprocessing.parent_process()
    if parent is None:  # the serving process itself, loading the application before the workers start
        return application
    _die_with_parent(parent.pid)
    return WithoutProcessEnvironment(application, os.environ)


def _die_with_parent(parent: int | None) -> None:
    """End this worker when the serving process ends, however it ends (Linux). granian's workers outlive
    a parent killed with SIGKILL (a ``kill -9``, the out-of-memory killer) and go on answering on its
    port, where nothing supervises them any more. The workers are started by the parent's main thread,
    whose end the kernel takes as the parent's."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # it ended before the call above
        os._exit(1)


class WithoutProcessEnvironment:
    """The application, given each request's environ without the process environment granian copies
    into it (as CGI did): ``request.META`` would hold ``CLIENTBASE_DATABASE_URL`` and the like, and a
    variable named ``HTTP_…`` would pass for a request header the client never sent."""

    def __init__(self, app: Any, environment: Mapping[str, str]) -> None:
        self.app = app
        self.foreign = [(key, value) for key, value in environment.items() if key not in _CGI]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        for key, value in self.foreign:
            # A request header of the same name wins in granian's environ; it differs from ours or is harmless.
            if environ.get(key) == value:
                del environ[key]
        return self.app(environ, start_response)


def serve(*, host: str, port: int, workers: int = 2) -> None:
    call_command("collectstatic", interactive=False, verbosity=0)
    settings.HOME.mkdir(parents=True, exist_ok=True)
    # The application is loaded here, before the workers are forked from this process: import every view
    # and API module now, then move all these objects out of the collector's reach (gc.freeze). A full
    # collection in a worker then walks what the worker made since, not the whole of Django and
    # clientbase: 34-160 ms instead of 266-326 ms in which every thread of the worker stood still, at
    # 200 single-event requests a second (bench/RESULTS.md, fourteenth session).
    application("")
    import_module(settings.ROOT_URLCONF)
    if sys.platform == "linux":
        # Workers forked from this process share what it loaded and froze; Python 3.14 would otherwise
        # start them with forkserver, which granian replaces by spawn (every worker imports all again).
        multiprocessing.set_start_method("fork", force=True)
    gc.collect()
    gc.freeze()
    Server(
        "clientbase.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        http=HTTPModes.http1,
        websockets=False,  # WSGI has none; saying so keeps granian from logging that it ignores them
        workers=workers,
        blocking_threads=THREADS,
        # A request thread keeps its database connection (SQLite's CONN_MAX_AGE is 600 s): keep idle
        # threads as long as granian allows. With its default, 30 s, the first requests after a pause ran
        # on new threads, which open new connections and on SQLite parse the schema again.
        blocking_threads_idle_timeout=600,
        log_access=True,
        respawn_failed_workers=True,
        workers_kill_timeout=30,
    ).serve(target_loader=application)
