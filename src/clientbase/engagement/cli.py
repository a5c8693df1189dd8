"""``clientbase worker``: periodic jobs, triggers and the send queue in one plain loop."""

import argparse
import json
import logging
import os
import socket
import time

log = logging.getLogger(__name__)


def cmd_worker(args: argparse.Namespace) -> int:
    from clientbase.cli import setup_django

    setup_django()
    from django.db import DatabaseError, close_old_connections

    from clientbase.engagement.worker import run_worker

    name = args.name or f"{socket.gethostname()}:{os.getpid()}"
    if args.once:
        print(json.dumps(run_worker(name, batch=args.batch, triggers=not args.no_triggers), sort_keys=True))
        return 0
    while True:
        # A long-lived process: drop connections the database closed, and survive a failed pass
        # (the rows it claimed are retried after their lease).
        close_old_connections()
        try:
            summary = run_worker(name, batch=args.batch, triggers=not args.no_triggers)
        except DatabaseError:
            log.exception("worker pass failed; retrying")
            summary = {}
        if not summary.get("claimed"):
            time.sleep(args.sleep)


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("worker", help="Send queued messages and run scheduled triggers.",
                       description="Send queued messages and run scheduled triggers (several may run at once).")
    p.add_argument("--once", action="store_true", help="one pass, then exit (tests, cron)")
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--sleep", type=float, default=2.0, help="seconds to wait when the queue is empty")
    p.add_argument("--name", help="worker name recorded on claimed rows (default host:pid)")
    p.add_argument("--no-triggers", action="store_true", help="only the send queue (no periodic jobs, no triggers)")
    p.set_defaults(func=cmd_worker)
