"""``clientbase serve``: gunicorn in-process, static files collected once and served by whitenoise."""

import gc
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management import call_command
from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(*, host: str, port: int, workers: int = 2) -> None:
    call_command("collectstatic", interactive=False, verbosity=0)
    from clientbase.wsgi import application

    settings.HOME.mkdir(parents=True, exist_ok=True)
    # The application is loaded here, before gunicorn forks its workers (preload_app): import every view
    # and API module now, then move all these objects out of the collector's reach (gc.freeze). A full
    # collection in a worker then walks what the worker made since, not the whole of Django and
    # clientbase: 34-160 ms instead of 266-326 ms in which every thread of the worker stood still, at
    # 200 single-event requests a second (bench/RESULTS.md, fourteenth session).
    import_module(settings.ROOT_URLCONF)
    gc.collect()
    gc.freeze()
    _Server(application, {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": 4,
        "worker_class": "gthread",
        "accesslog": "-",
        "timeout": 120,
        "preload_app": True,
        # gunicorn's control socket defaults to one path per user: two servers would fight over it.
        "control_socket_disable": True,
    }).run()
