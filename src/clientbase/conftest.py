import pytest


@pytest.fixture(autouse=True)
def _db_for_all(db: None) -> None:
    """Every test here talks to the real database (SQLite or PostgreSQL, as configured)."""
