import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Dashboard aggregates are cached by the orders table's state, which can repeat between tests."""
    cache.clear()
