"""Streaming readers and writers for CSV and XLSX tables: one row in memory at a time.

Readers yield ``Sheet``s whose ``rows`` are ``(row_number, values)`` with the spreadsheet's own
row numbers (the header is row 1), so a report can point at the cell a person sees in Excel.
CSV cells are text; XLSX cells keep their types (numbers, dates) so the importer can tell an
Excel date cell from a text that looks like one.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class Sheet:
    name: str
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]


def _sniff_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) first; Excel on Russian Windows saves CSV as cp1251."""
    with path.open("rb") as handle:
        sample = handle.read(1 << 16)
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start < len(sample) - 4:
            return "cp1251"
    return "utf-8-sig"


def _csv_rows(path: Path, name: str) -> Iterator[Sheet]:
    encoding = _sniff_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(1 << 15)
        handle.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        header = next(reader, [])
        yield Sheet(name, [h.strip() for h in header], ((i, row) for i, row in enumerate(reader, start=2)))


def _xlsx_rows(path: Path, only: Iterable[str] | None) -> Iterator[Sheet]:
    from openpyxl import load_workbook

    # read_only streams the sheet XML; memory stays flat whatever the number of rows.
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        names = list(only) if only is not None else workbook.sheetnames
        for name in names:
            rows = workbook[name].iter_rows(values_only=True)
            header = next(rows, ())
            yield Sheet(name, ["" if h is None else str(h).strip() for h in header],
                        ((i, list(row)) for i, row in enumerate(rows, start=2)))
    finally:
        workbook.close()


def sheet_names(path: Path) -> list[str]:
    if path.suffix.lower() in XLSX_SUFFIXES:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        try:
            return list(workbook.sheetnames)
        finally:
            workbook.close()
    return [path.stem]


def read_sheets(path: Path, only: Iterable[str] | None = None) -> Iterator[Sheet]:
    """The sheets of a CSV (one, named after the file) or an XLSX workbook (``only`` these, in order)."""
    if path.suffix.lower() in XLSX_SUFFIXES:
        yield from _xlsx_rows(path, only)
    else:
        yield from _csv_rows(path, path.stem)


class TableWriter:
    """Write rows to CSV (UTF-8 with BOM, so Excel opens Cyrillic right) or XLSX (write-only, streaming)."""

    def __init__(self, target: IO[bytes], fmt: str, sheet: str = "Sheet1") -> None:
        self.fmt = fmt
        self.target = target
        if fmt == "xlsx":
            from openpyxl import Workbook

            self.workbook = Workbook(write_only=True)
            self.sheet = self.workbook.create_sheet(sheet)
        elif fmt == "csv":
            self.text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
            self.writer = csv.writer(self.text)
        else:
            raise ValueError(f"Unknown format {fmt!r}")

    def row(self, values: list[Any]) -> None:
        if self.fmt == "xlsx":
            self.sheet.append(values)
        else:
            self.writer.writerow(["" if v is None else v for v in values])

    def close(self) -> None:
        if self.fmt == "xlsx":
            self.workbook.save(self.target)
        else:
            self.text.flush()
            self.text.detach()
