"""``clientbase serve``: granian in-process (docs/adr/0002-granian.md), static files collected once and
served by whitenoise."""

import ctypes
import gc
import os
import signal
import sys
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management import call_command
from granian.constants import HTTPModes, Interfaces
from granian.server import Server

THREADS = 4  # Python threads per worker process running requests
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_parent: int | None = None  # the serving process, in the workers forked from it


def application(_target: str) -> Any:
    """The WSGI application, for each worker (a module-level function: granian may pickle it)."""
    from clientbase.wsgi import application

    if _parent is not None and os.getpid() != _parent:
        _die_with_parent(_parent)
    return application


def _die_with_parent(parent: int) -> None:
    """End this worker when the serving process ends, however it ends (Linux). granian's workers outlive
    a parent killed with SIGKILL (a ``kill -9``, the out-of-memory killer) and go on answering on its
    port, where nothing supervises them any more. The workers are forked by the parent's main thread,
    whose end the kernel takes as the parent's."""
    if sys.platform != "linux":
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it ended before the line above
        os._exit(1)


def serve(*, host: str, port: int, workers: int = 2) -> None:
    call_command("collectstatic", interactive=False, verbosity=0)
    settings.HOME.mkdir(parents=True, exist_ok=True)
    # The application is loaded here, before the workers are forked from this process: import every view
    # and API module now, then move all these objects out of the collector's reach (gc.freeze). A full
    # collection in a worker then walks what the worker made since, not the whole of Django and
    # clientbase: 34-160 ms instead of 266-326 ms in which every thread of the worker stood still, at
    # 200 single-event requests a second (bench/RESULTS.md, fourteenth session).
    global _parent
    application("")
    import_module(settings.ROOT_URLCONF)
    _parent = os.getpid()
    gc.collect()
    gc.freeze()
    Server(
        "clientbase.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        http=HTTPModes.http1,
        workers=workers,
        blocking_threads=THREADS,
        # A request thread keeps its database connection (CONN_MAX_AGE): keep idle threads as long as
        # granian allows. With its default, 30 s, the first requests after a pause ran on new threads
        # with new connections.
        blocking_threads_idle_timeout=600,
        log_access=True,
        respawn_failed_workers=True,
        workers_kill_timeout=30,
    ).serve(target_loader=application)
