import numpy as np
import pytest

from clientbase.analytics import rules
from clientbase.analytics.scores import RFMSegment


@pytest.mark.parametrize(("r", "f", "segment"), [
    (5, 5, "champions"), (4, 4, "champions"), (3, 5, "loyal"), (5, 2, "potential_loyalist"),
    (4, 3, "potential_loyalist"), (5, 1, "new"), (4, 1, "promising"), (3, 3, "need_attention"),
    (3, 1, "about_to_sleep"), (2, 5, "cannot_lose"), (1, 5, "cannot_lose"), (1, 3, "at_risk"),
    (2, 4, "at_risk"), (2, 2, "hibernating"), (1, 1, "lost"), (1, 2, "lost"),
])
def test_segment_grid(r: int, f: int, segment: str) -> None:
    assert rules.segment_of(r, f) == segment


def test_every_grid_cell_is_a_known_segment() -> None:
    assert {cell for row in rules.SEGMENT_GRID for cell in row} <= set(RFMSegment.values)


def test_quintiles_give_ties_one_score_and_invert_recency() -> None:
    assert rules.quintile_scores([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rules.quintile_scores([1, 1, 1, 1, 1, 1, 1, 1, 5, 9]).tolist() == [1] * 8 + [5, 5]
    assert rules.quintile_scores([3, 300], higher_is_better=False).tolist() == [3, 1]
    r, f, m = rules.rfm_scores([1, 400, 2, 30, 60], [10, 1, 8, 3, 1], [90000, 500, 70000, 9000, 100])
    assert r.tolist() == [5, 1, 4, 3, 2]
    assert rules.segments(r, f).tolist() == ["champions", "lost", "champions", "need_attention", "hibernating"]
    assert m.tolist() == [5, 2, 4, 3, 1]


def test_in_about_phrasing() -> None:
    assert rules.in_about(0.2) == "today"
    assert rules.in_about(13) == "in about two weeks"
    assert rules.in_about(3) == "in 3 days"
    assert rules.in_about(95) == "in about 3 months"


def test_why_line() -> None:
    line = rules.why(visits=9, days_since_last=5.2, typical_gap=12.4, probability_alive=0.936)
    assert line == "9 visits, last 5 days ago, usually every 12 days; 94% likely still active"
    assert rules.why(visits=1, days_since_last=1, typical_gap=np.nan, probability_alive=1.0) == (
        "1 visit, last 1 day ago; 100% likely still active")


def test_russian_phrasing_from_the_app_catalogue() -> None:
    from django.utils.translation import override

    with override("ru"):
        assert rules.in_about(13) == "примерно через две недели"
        line = rules.why(visits=5, days_since_last=2, typical_gap=7, probability_alive=0.5)
        assert line.startswith("5 визитов, последний — 2 дня назад, ")
        assert line.endswith("7 дней; активен с вероятностью 50%")
