"""A fresh database for one benchmark run, chosen before Django starts: a temporary SQLite file, or a
PostgreSQL database on 127.0.0.1 created here and dropped afterwards. Shared by every bench/*.py."""

import os
from pathlib import Path

PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def prepare(db: str, workdir: Path, label: str = "bench") -> str | None:
    """Point clientbase at a fresh database; return the PostgreSQL database's name to drop later."""
    os.environ["CLIENTBASE_HOME"] = str(workdir)
    os.environ.pop("CLIENTBASE_TESTING", None)
    if db == "sqlite":
        os.environ.pop("CLIENTBASE_DATABASE_URL", None)
        os.environ["CLIENTBASE_SQLITE_PATH"] = str(workdir / "bench.sqlite3")
        return None
    name = f"cb_bench_{label}_{os.getpid()}"
    pg_admin(f'CREATE DATABASE "{name}"')
    os.environ["CLIENTBASE_DATABASE_URL"] = f"{PG_SERVER}/{name}"
    return name


def drop(name: str | None) -> None:
    if name:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
