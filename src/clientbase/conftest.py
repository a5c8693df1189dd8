import pytest


@pytest.fixture(autouse=True)
def _db_for_all(db: None) -> None:
    """Every test here talks to the real database (SQLite or PostgreSQL, as configured)."""


@pytest.fixture(autouse=True)
def _fresh_junk_patterns() -> None:
    """Ingest keeps the junk patterns it read outside a transaction for a moment (identity.services);
    a transactional test's patterns are flushed without telling it, so each test starts from none."""
    from clientbase.identity.services import forget_patterns

    forget_patterns()
