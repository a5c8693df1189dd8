"""Importing a customer base from CSV or Excel (R10.3), streaming, in batches.

One workbook may hold several sheets linked by a key column: customers («Клиенты»), extra phones and
e-mails («Телефоны») and contracts («Договоры»). Every identifier is normalised the way identity does
it, so rows sharing a phone or e-mail become one customer, and a customer already in the base is found
again, which makes a second import of the same file change nothing. A row with any bad cell is refused
whole and every bad cell is reported; ``all-or-nothing`` then stores nothing, ``valid-rows`` stores the
other rows. Empty cells never erase what the base already knows.

The write path is a bulk version of ``services.create_customer`` / ``update_customer``: the same
validators and per-field history rows (``ProfileChange``) for updates, one ``created`` row holding all
first values for a new customer, a few queries per batch instead of per row.
"""

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.db import connection, transaction

from clientbase.access.actor import Actor
from clientbase.core import collector, fastinsert, readahead
from clientbase.core.bulk import bulk_writes
from clientbase.core.clock import now
from clientbase.core.errors import DomainValidationError
from clientbase.core.tabular import Sheet, read_sheets, sheet_names
from clientbase.core.text import search_key
from clientbase.customers import import_columns as columns
from clientbase.customers.history import history_row, insert_history
from clientbase.customers.models import Customer
from clientbase.customers.rules import to_json
from clientbase.identity.locks import lock_identity
from clientbase.identity.models import Identifier
from clientbase.identity.rules import normalize
from clientbase.identity.selectors import identifier_owners

BATCH = 2000
ROLE_ORDER = ("customers", "phones", "contracts")
MODES = ("all-or-nothing", "valid-rows")
PROFILE_FIELDS = ("last_name", "first_name", "middle_name", "birth_date", "gender", "city", "address", "notes")


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int
    column: str
    value: str
    reason: str
    rejected: bool = True  # False for notes such as an unknown column that is simply not imported


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    problems: int = 0
    stored: bool = False
    first_problems: list[Problem] = field(default_factory=list)


@dataclass
class RowIn:
    sheet: str
    row: int
    fields: dict[str, Any]
    identifiers: list[tuple[str, str, str, str]]  # kind, value, raw, label
    key_column: str = ""
    must_exist: bool = False  # rows of the Phones/Contracts sheets attach to a customer from the main sheet


ProblemSink = Callable[[Problem], None]


TEXT_LIMITS = {"notes": 10000, "address": 300, "full_name": 300, "phone_label": 50}


class Importer:
    def __init__(self, *, actor: Actor, source: str, region: str, report: ProblemSink,
                 result: ImportResult, hold: bool = True) -> None:
        self.actor, self.source, self.region, self.hold = actor, source, region, hold
        self.report_sink, self.result = report, result

    def report(self, problem: Problem) -> None:
        if problem.rejected:
            self.result.problems += 1
        if len(self.result.first_problems) < 500:
            self.result.first_problems.append(problem)
        self.report_sink(problem)

    # Parsing one row -------------------------------------------------------------------------
    def read(self, path: Path, plan: list[tuple[str, str]],
             mapping: dict[str, Any]) -> Iterator[tuple[str | None, RowIn | None, list[Problem]]]:
        """(sheet, parsed row or None, its problems) for every row, and (None, None, [note]) for a sheet's
        notes; nothing here writes, counts or reports, so it may run in a read-ahead thread."""
        notes: list[Problem] = []
        for sheet, role, mapped, row, values in sheet_rows(path, plan, mapping, notes.append):
            if notes:
                yield None, None, notes
                notes = []
            problems: list[Problem] = []
            yield sheet.name, self.parse(sheet, row, values, mapped, role, problems), problems
        if notes:
            yield None, None, notes

    def parse(self, sheet: Sheet, row: int, values: list[Any], mapped: dict[int, str], role: str,
              problems: list[Problem]) -> RowIn | None:
        """The row's fields and identifiers; None when the row is blank or refused (any bad cell, or
        nothing to recognise the customer by), with the reasons added to ``problems``."""
        bad = False
        fields: dict[str, Any] = {}
        identifiers: list[tuple[str, str, str, str]] = []
        label = ""
        if not any(v not in (None, "") for v in values):
            return None
        for index, name in mapped.items():
            value = values[index] if index < len(values) else None
            try:
                parsed = self._cell(name, value, identifiers)
            except (columns.CellError, DomainValidationError) as exc:
                message = exc.errors[0].message if isinstance(exc, DomainValidationError) else str(exc)
                problems.append(Problem(sheet.name, row, sheet.header[index], _shown(value), message))
                bad = True
                continue
            if name == "phone_label":
                label = parsed
            elif name == "contract_date" and parsed:
                label = parsed.isoformat()
            elif parsed not in ("", None) and name not in ("phone", "email", "card", "key", "contract"):
                fields[name] = parsed
        if bad:
            return None
        if "full_name" in fields:
            for key, part in columns.split_full_name(fields.pop("full_name")).items():
                fields.setdefault(key, part)
        # A label (phone type, contract date) describes the row's phone, e-mail or contract, not its key.
        identifiers = [(k, v, raw, "" if v.startswith("import:") else label) for k, v, raw, _ in identifiers]
        key_column = next((sheet.header[i] for i, n in mapped.items() if n == "key"), "")
        if not identifiers:
            problems.append(Problem(sheet.name, row, "", "", "Nothing to recognise the customer by: give a phone, "
                                    "e-mail, card or key column value."))
            return None
        return RowIn(sheet.name, row, fields, identifiers, key_column, must_exist=role != "customers")

    def _cell(self, name: str, value: Any, identifiers: list[tuple[str, str, str, str]]) -> Any:
        if name in ("phone", "email", "card"):
            raw = columns.code(value) if name != "email" else columns.text(value, 254)
            # One cell may hold several phones: «8 916 123-45-67, +7 903 111-22-33».
            for part in [p.strip() for p in raw.replace(";", ",").split(",")] if name != "card" else [raw]:
                if part:
                    identifiers.append((name, normalize(name, part, region=self.region, field=name), part, ""))
            return ""
        if name == "key":
            raw = columns.code(value)
            if raw:
                identifiers.append(("external", f"import:{raw}", raw, ""))
            return raw
        if name == "contract":
            raw = columns.code(value)
            if raw:
                identifiers.append(("external", f"contract:{raw}", raw, ""))
            return raw
        if name in ("birth_date", "contract_date"):
            return columns.cached_date(value)
        if name == "gender":
            return columns.gender(value)
        if name in TEXT_LIMITS:  # long and mostly distinct (notes, addresses, full names): not worth keeping
            return columns.text(value, TEXT_LIMITS[name])
        return columns.cached_text(value, 100)

    # Writing one batch -----------------------------------------------------------------------
    def apply(self, batch: list[RowIn]) -> None:
        # An identity writer (it adds identifiers and customers): the exclusive identity lock first, as an
        # ingest batch takes it (docs/identity.md, Concurrency). No merge and no ingest runs until the
        # batch commits, so the owners found stay the owners and no other writer adds these identifiers.
        # Then the customers found are held (rule 5 of identity.locks), their team read with the hold: a
        # profile edit or a team change saved meanwhile would otherwise be judged against, and overwritten
        # from, what was read here. A dry run, which stores nothing, takes neither.
        if self.hold:
            lock_identity()
        owner = identifier_owners({(k, v) for row in batch for k, v, _, _ in row.identifiers})
        found = Customer.objects.filter(pk__in=set(owner.values())).order_by("pk")
        if self.hold:
            found = found.select_for_update(no_key=True)
        teams: dict[int, int | None] = dict(found.values_list("pk", "team_id"))
        new_fields: dict[int, dict[str, Any]] = {}  # negative refs for customers this batch creates
        updates: dict[int, dict[str, Any]] = {}
        new_ids: list[tuple[int, str, str, str, str]] = []
        for row in batch:
            target = self._target(row, owner, teams, new_fields)
            if target is None:
                continue
            for kind, value, raw, label in row.identifiers:
                if (kind, value) not in owner:
                    owner[(kind, value)] = target
                    new_ids.append((target, kind, value, raw, label))
            (new_fields if target < 0 else updates).setdefault(target, {}).update(row.fields)
        created = self._create(new_fields)
        changed = self._update(updates)
        at = now()
        history = []
        identifiers = []
        # A new customer gets one "created" history row holding every first value, identifiers included,
        # with the file as its source: the card shows where each value came from at a ninth of the rows.
        opening = {ref: {key: to_json(value) for key, value in fields.items()} for ref, fields in new_fields.items()}
        for ref, kind, value, raw, label in new_ids:
            customer_id = created[ref] if ref < 0 else ref
            identifiers.append((customer_id, kind, value, raw[:254], label, self.source, at))
            if ref < 0:
                opening[ref].setdefault(f"identifiers.{kind}", []).append(value)
            else:
                changed.add(customer_id)
                history.append(self._history(customer_id, f"identifiers.{kind}", None, value, at))
        history += [self._history(created[ref], "created", None, values, at) for ref, values in opening.items()]
        fastinsert.insert_rows(Identifier, ("customer_id", "kind", "value", "raw", "label", "source", "created_at"),
                               identifiers)
        insert_history(history)
        self.result.created += len(created)
        existing = {t for t in updates} | {r for r, *_ in new_ids if r > 0}
        self.result.updated += len(existing & changed)
        self.result.unchanged += len(existing - changed)

    def _target(self, row: RowIn, owner: dict[tuple[str, str], int], teams: dict[int, int | None],
                new_fields: dict[int, dict[str, Any]]) -> int | None:
        found = {owner[(k, v)] for k, v, _, _ in row.identifiers if (k, v) in owner}
        if row.must_exist and not any((k, v) in owner for k, v, _, _ in row.identifiers
                                      if v.startswith("import:")):
            return self._refuse(row, row.key_column, "No customer with this key on the customers sheet.")
        if len(found) > 1:
            ids = ", ".join(f"#{c}" if c > 0 else f"a customer of row {-c}" for c in sorted(found))
            return self._refuse(row, "", f"The identifiers of this row belong to different customers ({ids}); "
                                "merge them first or fix the row.")
        if not found:
            ref = -(len(new_fields) + 1)
            new_fields[ref] = {}
            return ref
        target = found.pop()
        if target > 0 and not self.actor.sees_all and teams.get(target) != self.actor.team_id:
            return self._refuse(row, "", f"Customer #{target} belongs to another team.")
        return target

    def _refuse(self, row: RowIn, column: str, reason: str) -> int | None:
        self.result.rejected_rows += 1
        self.report(Problem(row.sheet, row.row, column, "", reason))
        return None

    def _create(self, new_fields: dict[int, dict[str, Any]]) -> dict[int, int]:
        """Insert the new customers as plain rows (model instances cost more than the insert itself);
        the id given to each negative ref. Their history row is written by ``apply``."""
        team_id = None if self.actor.sees_all else self.actor.team_id
        ids = dict(zip(new_fields, fastinsert.reserve_ids(Customer, len(new_fields)), strict=True)) \
            if new_fields else {}
        at = now()
        rows = []
        for ref, fields in new_fields.items():
            profile = [fields.get(name, None if name == "birth_date" else "") for name in PROFILE_FIELDS]
            key = search_key(fields.get("last_name", ""), fields.get("first_name", ""),
                                   fields.get("middle_name", ""))
            rows.append((ids[ref], team_id, self.actor.user_id, key, at, at, *profile))
        fastinsert.insert_rows(Customer, ("id", "team_id", "owner_id", "search_key", "created_at", "updated_at",
                                          *PROFILE_FIELDS), rows)
        return ids

    def _history(self, customer_id: int, field: str, old: Any, new: Any, at: dt.datetime) -> tuple[Any, ...]:
        return history_row(customer_id, field, old, new, actor=self.actor, source=self.source, at=at)

    def _update(self, updates: dict[int, dict[str, Any]]) -> set[int]:
        """Apply non-empty row values that differ from the stored ones; the ids of customers that changed."""
        rows, touched, changed, at = [], set(), [], now()
        for customer in Customer.objects.filter(pk__in=updates).only("pk", "search_key", *PROFILE_FIELDS):
            diff = {k: v for k, v in updates[customer.pk].items() if getattr(customer, k) != v}
            for key, value in diff.items():
                rows.append(self._history(customer.pk, key, getattr(customer, key), value, at))
                setattr(customer, key, value)
            if diff:
                touched |= set(diff)
                customer.search_key = search_key(customer.last_name, customer.first_name, customer.middle_name)
                changed.append(customer)
        if changed:
            Customer.objects.bulk_update(changed, [*sorted(touched), "search_key"])
        insert_history(rows)
        return {c.pk for c in changed}


def _shown(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return "" if value is None else str(value)[:200]


def plan_sheets(path: Path, mapping: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """(sheet, role) in processing order: customers first, so the other sheets find them by key."""
    names = sheet_names(path)
    roles: dict[str, str] = {}
    overrides = mapping.get("sheets", {})
    for name in names:
        role = overrides.get(name) if name in overrides else columns.guess_sheet_role(name)
        if role is None and len(names) == 1:
            role = kind
        if role:
            roles[name] = role
    order = ROLE_ORDER if kind == "customers" else ("orders",)
    return [(n, roles[n]) for r in order for n in names if roles.get(n) == r]


def sheet_rows(path: Path, plan: list[tuple[str, str]], mapping: dict[str, Any],
               report: ProblemSink) -> Iterator[tuple[Sheet, str, dict[int, str], int, list[Any]]]:
    """Every data row of the planned sheets with its column map; unknown columns noted once."""
    roles = dict(plan)
    for sheet in read_sheets(path, only=[name for name, _ in plan]):
        role = roles[sheet.name]
        mapped = columns.guess_columns(sheet.header, role, mapping.get("columns", {}))
        for index, title in enumerate(sheet.header):
            if index not in mapped and title and title not in mapping.get("columns", {}):
                report(Problem(sheet.name, 1, title, "", "Column not imported: its header is not known; "
                               "map it in the mapping file.", rejected=False))
        for row, values in sheet.rows:
            yield sheet, role, mapped, row, values


def import_customers(path: Path, *, actor: Actor, mapping: dict[str, Any] | None = None,
                     mode: str = "all-or-nothing", dry_run: bool = False, region: str = "RU",
                     report: ProblemSink = lambda p: None,
                     progress: Callable[[int], None] = lambda n: None) -> ImportResult:
    """Import customers from ``path``; see the module docstring for the rules."""
    if mode not in MODES:
        raise DomainValidationError.single("mode", f"Must be one of {', '.join(MODES)}.")
    mapping = mapping or {}
    result = ImportResult()
    importer = Importer(actor=actor, source=f"import:{path.name}"[:100], region=region, report=report,
                        result=result, hold=not dry_run)
    plan = plan_sheets(path, mapping, "customers")
    if not plan:
        importer.report(Problem(path.name, 0, "", "", "No sheet of customers found; name the sheets in the "
                                "mapping file."))
        return result
    whole = mode == "all-or-nothing" or dry_run
    with columns.cells_remembered(), bulk_writes(connection), transaction.atomic() if whole else contextlib.nullcontext():
        batch: list[RowIn] = []
        # Rows are parsed ahead (a second thread, on PostgreSQL) while the batch before them is stored.
        for records in readahead.ahead(importer.read(path, plan, mapping), limit=BATCH):
            for sheet_name, parsed, problems in records:
                if sheet_name is None:  # notes about a sheet's columns
                    for problem in problems:
                        importer.report(problem)
                    continue
                if batch and batch[-1].sheet != sheet_name:
                    flush(importer, batch, whole)  # the next sheet looks customers up by the keys stored here
                    batch = []
                result.rows += 1
                for problem in problems:
                    importer.report(problem)
                if parsed is not None:
                    batch.append(parsed)
                elif problems:
                    result.rejected_rows += 1
                if len(batch) >= BATCH:
                    flush(importer, batch, whole)
                    progress(result.rows)
                    batch = []
        if batch:
            flush(importer, batch, whole)
        progress(result.rows)
        finish(result, dry_run=dry_run, mode=mode, whole=whole)
    return result


class Applies(Protocol):
    def apply(self, batch: Any) -> Any: ...


def flush(importer: Applies, batch: list[Any], whole: bool) -> None:
    """Store one batch: inside the file's one transaction (all-or-nothing), else in a transaction of its own."""
    with collector.paused(), contextlib.nullcontext() if whole else transaction.atomic():
        importer.apply(batch)


def finish(result: ImportResult, *, dry_run: bool, mode: str, whole: bool) -> None:
    """Decide whether what was written stays; a dry run or a rejected row in all-or-nothing rolls it back."""
    result.stored = not dry_run and not (mode == "all-or-nothing" and result.rejected_rows)
    if whole and not result.stored:
        transaction.set_rollback(True)
