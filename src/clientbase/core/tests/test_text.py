from hypothesis import given, settings
from hypothesis import strategies as st

from clientbase.core.text import _part_key, search_key


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("АаЁёЙйΣσς İi é-' .\u0301\t7x"), max_size=8), min_size=1, max_size=3))
def test_keying_the_parts_one_by_one_is_keying_the_whole_name(names: list[str]) -> None:
    """search_key keys (and caches) each part on its own; the answer must be that of the joined text."""
    assert search_key(*names) == _part_key.__wrapped__(" ".join(names))
