"""The ``clientbase`` command. Each subcommand parses its arguments and calls one function."""

import argparse
import os
import sys
from collections.abc import Callable

DEFAULT_PORT = 8000


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientbase.settings")
    import django

    django.setup()


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def cmd_init(args: argparse.Namespace) -> int:
    setup_django()
    from clientbase.access.services import create_staff_user
    from clientbase.core.errors import DomainValidationError

    _migrate(verbosity=1)
    password = args.password or os.environ.get("CLIENTBASE_ADMIN_PASSWORD")
    generated = password is None
    if generated:
        import secrets

        password = secrets.token_urlsafe(12)
    try:
        create_staff_user(args.username, role="admin", password=password)
    except DomainValidationError as exc:
        print(f"init: {exc}", file=sys.stderr)
        return 2
    print(f"Admin user {args.username!r} created." + (f" Password: {password}" if generated else ""))
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    setup_django()
    from clientbase.access.services import create_staff_user, issue_token
    from clientbase.core.errors import DomainValidationError

    try:
        user = create_staff_user(args.name, role=args.role, team=args.team, password=args.password)
        print(f"User {args.name!r} created with role {args.role}" + (f" in team {args.team}" if args.team else ""))
        if args.token:
            scopes = args.scopes.split(",") if args.scopes else None
            token, plain = issue_token(user, name="cli", scopes=scopes)
            print(f"API token (shown once; scopes: {', '.join(token.scopes)}):")
            print(plain)
    except DomainValidationError as exc:
        print(f"createuser: {exc}", file=sys.stderr)
        return 2
    return 0


def _public_url(args: argparse.Namespace) -> None:
    """Links in messages (unsubscribe, surveys, tracking) point at the address actually served,
    unless CLIENTBASE_PUBLIC_URL says otherwise (a proxy in front)."""
    os.environ.setdefault("CLIENTBASE_PUBLIC_URL", f"http://{args.host}:{args.port}")


def cmd_serve(args: argparse.Namespace) -> int:
    _public_url(args)
    setup_django()
    from clientbase.server import serve

    _migrate()
    serve(host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _public_url(args)
    setup_django()
    from clientbase.demo.setup import ensure_demo

    _migrate()
    login = ensure_demo(customers=args.customers, seed=args.seed, progress=True)
    print(f"Demo business ready. Log in at http://{args.host}:{args.port}/ as "
          f"{login.username!r} with password {login.password!r}")
    if args.no_serve:
        return 0
    from clientbase.server import serve

    serve(host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientbase.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["clientbase manage", *args.rest])
    return 0


def _add_domain_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Each domain app may ship ``cli.py`` with ``register(sub)`` adding its own subcommands.

    Those commands call ``clientbase.cli.setup_django()`` themselves before touching the ORM.
    """
    import importlib
    import importlib.util

    for app in ("customers", "identity", "interactions", "sales", "loyalty", "analytics", "segments",
                "engagement"):
        if importlib.util.find_spec(f"clientbase.{app}.cli") is not None:
            importlib.import_module(f"clientbase.{app}.cli").register(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clientbase", description="Customer knowledge and loyalty platform.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    def add_server_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default=os.environ.get("CLIENTBASE_HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("CLIENTBASE_PORT", DEFAULT_PORT)))
        p.add_argument("--workers", type=int, default=int(os.environ.get("CLIENTBASE_WORKERS", 2)))

    p = add("init", cmd_init, "Create or upgrade the database and the first admin user.")
    p.add_argument("--username", default="admin")
    p.add_argument("--password", help="default: $CLIENTBASE_ADMIN_PASSWORD, else a generated one is printed")

    p = add("createuser", cmd_createuser, "Create a staff user; with --token also an API token (last line).")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["admin", "marketer", "manager", "support"])
    p.add_argument("--team")
    p.add_argument("--password")
    p.add_argument("--token", action="store_true", help="issue an API token and print it as the last line")
    p.add_argument("--scopes", help="comma-separated token scopes (default: all the role allows)")

    p = add("serve", cmd_serve, "Run the production web server (granian, static files by whitenoise).")
    add_server_options(p)

    p = add("demo", cmd_demo, "Create the demo business if missing, then serve it.")
    p.add_argument("--customers", type=int, default=5000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-serve", action="store_true", help="only create the demo data")
    add_server_options(p)

    _add_domain_commands(sub)

    p = add("manage", cmd_manage, "Run a Django management command.")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
