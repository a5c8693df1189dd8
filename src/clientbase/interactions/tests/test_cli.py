import json
from pathlib import Path

from clientbase.interactions.cli import ingest_file
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
