import gc
import json
import pickle
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from clientbase.access.actor import SYSTEM
from clientbase.core import readahead
from clientbase.core.errors import DomainValidationError
from clientbase.core.offload import OffloadFailed
from clientbase.customers.models import Customer
from clientbase.identity.models import Identifier
from clientbase.interactions import ingest
from clientbase.interactions.cli import JsonLines, _decoded, ingest_file
from clientbase.interactions.ingest import ingest_batches, ingest_stream
from clientbase.interactions.models import Event
from clientbase.interactions.parsing import MAX_BATCH
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


def _mixed_file(tmp_path: Path) -> Path:
    """Seven events over five phones (the fourth with a bad time), a resend, a line that is not JSON and
    an empty last line: 6 created, 1 duplicate, 2 rejected (lines 4 and 9)."""
    phones = [f"+7916123456{i}" for i in range(5)]
    lines = [json.dumps(make_event(id=str(i), identifiers={"phone": phones[i % 5]})) for i in range(7)]
    lines[3] = json.dumps(make_event(id="3", occurred_at="yesterday"))
    lines += [json.dumps(make_event(id="0")), "{broken", ""]
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(lines) + "\n")
    return source


def test_a_file_ends_with_the_same_results_whatever_its_batch_size(tmp_path: Path) -> None:
    """Batches are parsed in a helper thread while the one before commits: that moves the parsing only, so
    counts, rows and the rejects file are the same for any batch size, the last lines that are not JSON
    included."""
    source = _mixed_file(tmp_path)
    for batch_size in (1, 3, 100):
        Event.objects.all().delete()
        rejects = tmp_path / f"rejects-{batch_size}.jsonl"
        totals = ingest_file(source, rejects_path=rejects, batch_size=batch_size, progress=False)
        assert (totals["created"], totals["duplicate"], totals["rejected"]) == (6, 1, 2)
        assert sorted(Event.objects.values_list("external_id", flat=True)) == ["0", "1", "2", "4", "5", "6"]
        assert [json.loads(x)["line"] for x in rejects.read_text().splitlines()] == [4, 9]


def test_a_file_read_and_parsed_in_a_second_process_ends_as_in_this_one(tmp_path: Path) -> None:
    """``in_process``: the same counts, rows, reports and rejects file as the helper thread's parse."""
    source = _mixed_file(tmp_path)
    outcomes = []
    for in_process in (False, True):
        Event.objects.all().delete()
        rejects = tmp_path / f"rejects-{in_process}.jsonl"
        totals = ingest_file(source, rejects_path=rejects, batch_size=3, progress=False, in_process=in_process)
        outcomes.append((totals, sorted(Event.objects.values_list("external_id", "type", "channel", "occurred_at",
                                                                  "identifiers", "traits", "data")),
                         rejects.read_text()))
    assert outcomes[0] == outcomes[1]
    assert (outcomes[1][0]["created"], outcomes[1][0]["rejected"]) == (6, 2)


def test_the_second_process_hands_back_exactly_what_the_parse_made() -> None:
    """``_Flattened`` (in the process) and ``_rebuilt`` (here) give back ``_parse``'s results and events, field
    for field: rejects with their errors, a source sent with spaces, traits that are dates, consent,
    placeholders, a message's data, the stored columns, a moment's own offset."""
    raw: list[Any] = [
        make_event(id="a", source=" pos-1 ", traits={"first_name": "Иван", "birth_date": "1990-05-01"},
                   identifiers={"phone": "8 (916) 123-45-67", "email": ["Ivan@Mail.ru", "null"],
                                "card": {"value": "0001234", "verified": True}},
                   consent={"email": "granted"}, occurred_at="2026-11-01T10:15:00.250000+03:00"),
        make_event(id="b", type="message", channel="site_chat", data={"direction": "inbound", "text": "Привет"}),
        "not an object",
        make_event(id="c", identifiers={"email": "x"}, channel="fax"),
    ]
    guards, region = ingest.load_guards(), settings.CLIENTBASE_DEFAULT_REGION
    vendor = transaction.get_connection().vendor
    results, parsed = ingest._parse(raw, guards, region, vendor)
    [flat] = list(ingest._Flattened([(raw, ("info", 1))], guards, region, vendor))
    rebuilt = ingest._rebuilt(pickle.loads(pickle.dumps(flat)))
    assert rebuilt is not None
    assert [r.as_dict() for r in rebuilt[0]] == [r.as_dict() for r in results]
    assert [r.status for r in results] == ["created", "created", "rejected", "rejected"]
    assert rebuilt[1] == parsed
    assert rebuilt[1][0].occurred_at.utcoffset() == parsed[0].occurred_at.utcoffset()
    assert [e.columns for e in rebuilt[1]] == [e.columns for e in parsed]
    assert rebuilt[2] == ("info", 1)


@dataclass(frozen=True)
class _FailingSource:
    """A stream that breaks after its first batch (it pickles, so the second process can read it)."""

    def __iter__(self) -> Iterator[tuple[list[Any], Any]]:
        yield [make_event(id="ok-1")], None
        raise OSError("the disk went away")


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_second_process_is_raised_here_after_the_batches_before_it_are_stored() -> None:
    stream = ingest_batches(_FailingSource(), actor=SYSTEM, in_process=True)
    report, _ = next(stream)
    assert [r.status for r in report.results] == ["created"]
    with pytest.raises(OffloadFailed, match="OSError: the disk went away"):
        next(stream)
    assert list(Event.objects.values_list("external_id", flat=True)) == ["ok-1"]
    assert gc.isenabled()


def test_a_file_is_read_in_batches_with_line_numbers(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join([json.dumps({"id": 1}), "", "nope", json.dumps({"id": 2}), json.dumps({"id": 3})]))
    batches = list(JsonLines(source, 2))
    assert [(events, lines, bad) for events, (lines, bad, _) in batches] == [
        ([{"id": 1}, {"id": 2}], [1, 4], [(3, "Not JSON: Expecting value: line 1 column 1 (char 0)")]),
        ([{"id": 3}], [5], [])]
    assert sum(size for _, (_, _, size) in batches) == source.stat().st_size


LINES = [
    json.dumps(make_event(id="1", traits={"first_name": "Иван"}), ensure_ascii=False),
    json.dumps(make_event(id="2", traits={"first_name": "Иван"})),  # the Cyrillic as \\u escapes
    '{"id": 123456789012345678901234567890, "n": -99999999999999999999, "u": 18446744073709551615}',
    '{"f": 0.1, "g": -0.0, "h": 1e-7, "i": 2.5E+10, "t": true, "x": null, "l": [1, [2, {}]]}',
    '{"a": 1, "a": 2, "s": "tab\\t quote\\" slash\\/ \\u00e9 \\ud83d\\ude00"}\r\n',
    '  {"padded": "yes"}  ',
    '{"lone": "\\ud800"}',  # an unpaired surrogate: msgspec refuses, json.loads keeps it for the parse to reject
    '{"n": NaN, "big": 1e400}',  # not JSON, but json.loads takes it: so does the file's reader, as before
    '\ufeff{"bom": 1}',  # a byte order mark: json.loads skips it in bytes
    '{"big": 1e400}',  # out of a float's range: msgspec refuses, json.loads gives inf
]


@pytest.mark.parametrize("line", LINES)
def test_a_line_decodes_to_what_json_loads_gives(line: str) -> None:
    assert repr(_decoded(line.encode())) == repr(json.loads(line.encode()))  # bytes, as the file is read


@pytest.mark.parametrize("line", ["{broken", '{"a": 1} x', "[1, 2", ""])
def test_a_line_that_is_not_json_fails_as_json_loads_fails(line: str) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(line.encode())
    with pytest.raises(ValueError) as got:
        _decoded(line.encode())
    assert str(got.value) == str(expected.value)


def test_a_line_nested_past_the_interpreters_limit_is_one_bad_line(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("[" * 100_000 + "\n" + json.dumps({"id": 1}) + "\n")
    [(events, (lines, bad, _))] = list(JsonLines(source, 10))
    assert (events, lines) == ([{"id": 1}], [2])
    assert [(line, reason.startswith("Not JSON: maximum recursion depth")) for line, reason in bad] == [(1, True)]


def test_an_unpaired_surrogate_in_a_file_rejects_its_event_naming_the_field(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text(json.dumps(make_event(id="1", traits={"first_name": "\ud800"})) + "\n")
    rejects = tmp_path / "rejects.jsonl"
    totals = ingest_file(source, rejects_path=rejects, batch_size=2, progress=False)
    assert (totals["created"], totals["rejected"]) == (0, 1)
    assert json.loads(rejects.read_text())["errors"][0]["path"] == "traits.first_name"


def test_a_stream_parses_its_batches_in_the_helper_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    parse = ingest._parse

    def recording(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return parse(*args)

    monkeypatch.setattr(ingest, "_parse", recording)
    batches = [[make_event(id=f"{b}-{i}") for i in range(2)] for b in range(3)]
    assert len(list(ingest_stream(iter(batches), actor=SYSTEM))) == 3
    assert len(threads) == 3
    assert all(name.startswith("clientbase-parse") for name in threads)
    assert not [t for t in threading.enumerate() if t.name.startswith("clientbase-parse")]  # gone at the end


@pytest.mark.django_db(transaction=True)
def test_the_next_batch_is_handed_to_the_parser_before_the_batch_writes_its_events(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside the batch's transaction: on SQLite before its events go in, so the parsing runs beside that
    insert and the commit (storing.before_events), on PostgreSQL at its end, beside the commit; so does
    the freeing of the batch before's parsed events (the helper gets the last reference to them)."""
    seen: list[tuple[str, bool, int]] = []

    class Recording(ThreadPoolExecutor):
        def submit(self, *args: Any, **kwargs: Any) -> Any:
            work = "parse" if args[0] is readahead.without_queries else f"{args[0].__name__} of {len(args[1])}"
            seen.append((work, transaction.get_connection().in_atomic_block, Event.objects.count()))
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(ingest, "ThreadPoolExecutor", Recording)
    batches = [[make_event(id=f"{b}-{i}") for i in range(2)] for b in range(3)]
    assert len(list(ingest_stream(iter(batches), actor=SYSTEM))) == 3
    # The first batch before any transaction, each next one in the transaction of the batch before (with
    # the parsed events of the batch before that): on SQLite before that batch's two events are in.
    stored = 2 if settings.IS_POSTGRES else 0
    assert seen == [("parse", False, 0), ("parse", True, stored), ("parse", True, 2 + stored),
                    ("len of 2", True, 2 + stored), ("len of 2", True, 4 + stored)]


def test_a_batch_with_no_events_to_write_still_hands_over_the_next() -> None:
    """A batch of resends inserts nothing: the next batch is handed to the parser at the block's end."""
    first = [make_event(id=f"a-{i}") for i in range(2)]
    batches = [first, first, [make_event(id="b-0")]]
    reports = list(ingest_stream(iter(batches), actor=SYSTEM))
    assert [[r.status for r in report.results] for report in reports] == [
        ["created", "created"], ["duplicate", "duplicate"], ["created"]]


@pytest.mark.django_db(transaction=True)
def test_each_batch_of_a_stream_commits_before_a_later_one_fails() -> None:
    """A batch too big to parse is reported after the batches before it are stored for good."""
    batches = [[make_event(id=f"a-{i}") for i in range(2)], [make_event(id=f"b-{i}") for i in range(2)],
               [make_event(id=f"c-{i}") for i in range(MAX_BATCH + 1)]]
    stream = ingest_stream(iter(batches), actor=SYSTEM)
    assert [r.status for r in next(stream).results] == ["created", "created"]
    assert [r.status for r in next(stream).results] == ["created", "created"]
    with pytest.raises(DomainValidationError):
        next(stream)
    assert sorted(Event.objects.values_list("external_id", flat=True)) == ["a-0", "a-1", "b-0", "b-1"]
    assert gc.isenabled()


def test_a_stream_reports_each_batch_in_order() -> None:
    batches = [[make_event(id=f"{b}-{i}") for i in range(3)] for b in range(4)]
    reports = list(ingest_stream(iter(batches), actor=SYSTEM))
    assert [[r.id for r in report.results] for report in reports] == [[e["id"] for e in b] for b in batches]
    assert Event.objects.count() == 12


@pytest.fixture
def refused_phone() -> Iterator[str]:
    """A phone the database itself refuses to store (a trigger raising an integrity error), as a failure
    no parse can foresee: the kind that makes a stream's batch fall back to savepoints."""
    phone = "+79160000013"
    with connection.cursor() as cursor:
        if settings.IS_POSTGRES:
            cursor.execute("CREATE FUNCTION refuse_phone() RETURNS trigger AS $$ BEGIN "
                           f"IF NEW.value = '{phone}' THEN RAISE EXCEPTION 'refused by a test trigger' "
                           "USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $$ "
                           "LANGUAGE plpgsql")
            cursor.execute("CREATE TRIGGER refuse_phone BEFORE INSERT ON identity_identifier "
                           "FOR EACH ROW EXECUTE FUNCTION refuse_phone()")
        else:
            cursor.execute(f"CREATE TRIGGER refuse_phone BEFORE INSERT ON identity_identifier "
                           f"WHEN NEW.value = '{phone}' BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END")
    yield phone


def _recording_store_parsed(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    store_parsed = ingest._store_parsed

    def recording(*args: Any, savepoints: bool = True) -> Any:
        calls.append(savepoints)
        return store_parsed(*args, savepoints=savepoints)

    monkeypatch.setattr(ingest, "_store_parsed", recording)
    return calls


@pytest.mark.django_db(transaction=True)
def test_a_stream_batch_goes_in_without_a_savepoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """A savepoint held while a batch writes makes SQLite copy every page the batch changes into a journal
    first (ingest._store_batch); a batch that goes in cleanly opens none."""
    calls = _recording_store_parsed(monkeypatch)
    batches = [[make_event(id=f"{b}-{i}", identifiers={"phone": f"+7916000{b}{i:03d}"}) for i in range(3)]
               for b in range(2)]
    with CaptureQueriesContext(connection) as queries:
        reports = list(ingest_stream(iter(batches), actor=SYSTEM))
    assert [[r.status for r in report.results] for report in reports] == [["created"] * 3] * 2
    assert calls == [False, False]
    assert not [q["sql"] for q in queries.captured_queries if "SAVEPOINT" in q["sql"].upper()]


def test_a_stream_batch_that_fails_is_stored_again_with_savepoints_and_rejects_only_its_bad_event(
        monkeypatch: pytest.MonkeyPatch, refused_phone: str) -> None:
    calls = _recording_store_parsed(monkeypatch)
    known = make_event(id="known", identifiers={"phone": "+79160000001", "email": "known@example.ru"})
    assert [r.status for r in next(ingest_stream(iter([[known]]), actor=SYSTEM)).results] == ["created"]
    customer = Event.objects.get(external_id="known").customer_id
    batch = [make_event(id="a", identifiers={"phone": "+79160000002"}, traits={"first_name": "Анна"}),
             make_event(id="b", identifiers={"phone": refused_phone}, traits={"first_name": "Борис"}),
             make_event(id="c", identifiers={"email": "known@example.ru"}),
             make_event(id="a", identifiers={"phone": "+79160000002"})]
    [report] = ingest_stream(iter([batch]), actor=SYSTEM)
    assert calls == [False, False, True]  # the known event's batch; this one's first try, then its second
    assert [r.status for r in report.results] == ["created", "rejected", "created", "duplicate"]
    rejected = report.results[1]
    assert "refused by a test trigger" in rejected.errors[0].message
    assert (rejected.customer_id, rejected.merges, rejected.notes) == (None, [], [])
    # Everything of the first try was rolled back: the bad event left nothing, the others went in once.
    assert report.results[2].customer_id == customer
    assert report.results[3].notes == ["Same (source, id) as event 0 of this batch."]
    assert sorted(Event.objects.values_list("external_id", flat=True)) == ["a", "c", "known"]
    assert not Identifier.objects.filter(value=refused_phone).exists()
    assert not Customer.objects.filter(first_name="Борис").exists()
    assert Customer.objects.filter(first_name="Анна").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_stream_asks_for_first_statistics_after_each_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Of the tables it fills (``core.bulk.FirstAnalyses``), outside each batch's transaction."""
    asked: list[tuple[list[str], bool, int]] = []

    class Recording(ingest.FirstAnalyses):
        def __call__(self) -> list[str]:
            asked.append((self.tables, transaction.get_connection().in_atomic_block, Event.objects.count()))
            return super().__call__()

        def __init__(self, connection: Any, tables: list[str], **kwargs: Any) -> None:
            super().__init__(connection, tables, **kwargs)
            self.tables = tables

    monkeypatch.setattr(ingest, "FirstAnalyses", Recording)
    batches = [[make_event(id=f"{b}-{i}") for i in range(2)] for b in range(3)]
    assert len(list(ingest_stream(iter(batches), actor=SYSTEM))) == 3
    tables = ["interactions_event", "customers_customer", "identity_identifier", "customers_profilechange",
              "identity_merge", "identity_consent"]
    assert asked == [(tables, False, 2), (tables, False, 4), (tables, False, 6)]
