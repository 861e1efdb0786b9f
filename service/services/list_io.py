"""Reading and writing the emission-reduction list as CSV or XLSX.

Columns: ``enterprise_id, name, name_en, region, industry, grade, guaranteed_supply,
baseline_so2, baseline_nox, baseline_pm, baseline_vocs, overrides, contact, lines``
(``overrides`` is the per-level override as JSON, ``lines`` the list of metered lines as
JSON, each empty for none; a file without a ``lines`` column reads as entries without lines).
A file read yields every entry it could read and, by line, every problem of every row (the
header is line 1): a row that cannot be read at all, and every bad field found by the list's
validation, so an operator fixes the file in one pass.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emission_list.catalog import Catalog
from emission_list.entries import ENTRY_FIELDS, Enterprise
from emission_list.i18n import pick
from emission_list.levels import LIST_POLLUTANTS
from emission_list.validation import validate_entries

#: The entry's fields in their stable order, with the baseline spread over one column per
#: pollutant.
COLUMNS: tuple[str, ...] = tuple(
    column
    for name in ENTRY_FIELDS
    for column in ([f"baseline_{p}" for p in LIST_POLLUTANTS] if name == "baseline" else [name])
)


@dataclass(frozen=True)
class RowProblem:
    line: int
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class ReadResult:
    """The entries read (valid or not), every problem by line, and each entry's line."""

    entries: list[Enterprise]
    problems: list[RowProblem]
    lines: list[int] = field(default_factory=list)


def to_row(entry: Enterprise) -> dict[str, str]:
    """One entry as a row of :data:`COLUMNS`."""
    data = entry.to_dict()
    row = {c: "" if data.get(c) is None else str(data.get(c, "")) for c in COLUMNS[:6]}
    row["guaranteed_supply"] = "true" if entry.guaranteed_supply else "false"
    for pollutant, value in zip(LIST_POLLUTANTS, entry.baseline, strict=True):
        row[f"baseline_{pollutant}"] = repr(float(value))
    row["contact"] = entry.contact
    row["overrides"] = json.dumps(data["overrides"], ensure_ascii=False) if entry.overrides else ""
    row["lines"] = json.dumps(data["lines"], ensure_ascii=False) if entry.lines else ""
    return row


def write_csv(entries: Iterable[Enterprise], out: io.TextIOBase) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for entry in entries:
        writer.writerow(to_row(entry))
        count += 1
    return count


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from csv.DictReader(handle)


def _sheet_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:  # a read-only workbook keeps its file open until closed
        yield from book.worksheets[0].iter_rows(values_only=True)
    finally:
        book.close()


def _names(header: Iterable[Any]) -> list[str]:
    return [str(h or "").strip() for h in header]


def _xlsx_rows(path: Path) -> Iterator[dict[str, Any]]:
    rows = _sheet_rows(path)
    header = _names(next(rows, ()))
    for values in rows:
        yield {h: ("" if v is None else v) for h, v in zip(header, values, strict=False) if h}


def read_file(
    path: Path,
    catalog: Catalog,
    leaf_regions: Collection[str],
    regions: Collection[str],
    *,
    language: str = "en",
    progress: Callable[[int], None] | None = None,
) -> ReadResult:
    """Read a CSV or XLSX list file; entries that could be read, and every problem by line."""
    rows = _xlsx_rows(path) if is_xlsx(path) else _csv_rows(path)
    entries: list[Enterprise] = []
    lines: list[int] = []
    problems: list[RowProblem] = []
    for number, raw in enumerate(rows, start=2):
        try:
            data = dict(raw)
            for column, empty in (("overrides", {}), ("lines", [])):
                cell = str(data.get(column) or "").strip()
                data[column] = json.loads(cell) if cell else empty
            entries.append(Enterprise.from_dict(data))
            lines.append(number)
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(RowProblem(number, "row", "row.unreadable", f"{exc}"))
        if progress is not None:
            progress(number - 1)
    for error in validate_entries(entries, catalog, leaf_regions, regions=regions):
        message = pick(error.message, language)
        problems.append(RowProblem(lines[error.index], error.field, error.code, message))
    problems.sort(key=lambda p: p.line)
    return ReadResult(entries, problems, lines)


def is_xlsx(path: Path) -> bool:
    """Whether ``path`` is read as a workbook (by its suffix), else as CSV."""
    return path.suffix.lower() in (".xlsx", ".xlsm")


def read_header(path: Path) -> list[str]:
    """The column names of a list file's first row (empty for an empty file)."""
    if is_xlsx(path):
        rows = _sheet_rows(path)
        try:
            return _names(next(rows, ()))
        finally:
            rows.close()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return _names(next(csv.reader(handle), []))


def format_problems(problems: Sequence[RowProblem]) -> list[str]:
    return [f"line {p.line}, {p.field}: {p.message} [{p.code}]" for p in problems]
