import json
from pathlib import Path

import pytest

from clientbase.access.actor import SYSTEM
from clientbase.core import readahead
from clientbase.interactions.cli import ingest_file
from clientbase.interactions.ingest import ingest_stream
from clientbase.interactions.models import Event
from clientbase.interactions.tests.builders import make_event


def test_ingest_file_counts_and_rejects_with_line_numbers(tmp_path: Path) -> None:
    lines = [json.dumps(make_event(id="1")), "not json", json.dumps(make_event(id="1")),
             json.dumps(make_event(id="2", identifiers={"email": "x"})),
             json.dumps(make_event(id="3", identifiers={"phone": "+79161234567", "email": "a@b.ru"}))]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")
    rejects = tmp_path / "rejects.jsonl"
    totals = ingest_file(source, rejects_path=rejects, batch_size=2, progress=False)
    assert (totals["created"], totals["duplicate"], totals["rejected"]) == (2, 1, 2)
    assert Event.objects.count() == 2
    rows = [json.loads(x) for x in rejects.read_text().splitlines()]
    assert [r["line"] for r in rows] == [2, 4]
    assert rows[1]["errors"][0]["path"] == "identifiers.email"


@pytest.mark.parametrize("read_ahead", [True, False])
def test_a_file_gives_the_same_results_read_ahead_or_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         read_ahead: bool) -> None:
    """The read-ahead thread (PostgreSQL's default) only moves the reading: same counts, same rejects file,
    the last lines that are not JSON included."""
    monkeypatch.setattr(readahead, "worthwhile", lambda: read_ahead)
    phones = [f"+7916123456{i}" for i in range(5)]
    lines = [json.dumps(make_event(id=str(i), identifiers={"phone": phones[i % 5]})) for i in range(7)]
    lines[3] = json.dumps(make_event(id="3", occurred_at="yesterday"))
    lines += [json.dumps(make_event(id="0")), "{broken", ""]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")
    rejects = tmp_path / "rejects.jsonl"
    totals = ingest_file(source, rejects_path=rejects, batch_size=3, progress=False)
    assert (totals["created"], totals["duplicate"], totals["rejected"]) == (6, 1, 2)
    assert sorted(Event.objects.values_list("external_id", flat=True)) == ["0", "1", "2", "4", "5", "6"]
    assert [json.loads(x)["line"] for x in rejects.read_text().splitlines()] == [4, 9]


def test_a_stream_reports_each_batch_in_order() -> None:
    batches = [[make_event(id=f"{b}-{i}") for i in range(3)] for b in range(4)]
    reports = list(ingest_stream(iter(batches), actor=SYSTEM))
    assert [[r.id for r in report.results] for report in reports] == [[e["id"] for e in b] for b in batches]
    assert Event.objects.count() == 12
