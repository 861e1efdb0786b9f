"""``haze aqi``: IAQI and AQI (HJ 633) for a CSV of concentrations.

    haze aqi [--standard 2012|2026] [FILE]

Reads CSV (stdin when no FILE) and writes CSV to stdout. Input columns are named by pollutant and
averaging period, any of ``so2_1h, so2_24h, no2_1h, no2_24h, co_1h, co_24h, o3_1h, o3_8h,
pm10_1h, pm10_24h, pm25_1h, pm25_24h`` (case and surrounding spaces ignored) in µg/m³, CO in
mg/m³; an empty cell, ``NA``, ``/`` or ``NaN`` is missing; the PM 1h columns are scored against
the 24h table. Every other column passes through unchanged, and the header is written as given.

Added columns: ``iaqi_<column>`` for each pollutant column (empty where no IAQI is defined),
``aqi``, ``category`` (1 to 6; both empty when no pollutant has a value), ``primary`` (primary
pollutants joined by ``;``, empty when AQI <= 50) and ``beyond_range`` (pollutants above their
table, reported as IAQI 500, joined by ``;``). A pollutant's IAQI is the largest of its columns',
with the SO2 1h and O3 8h rules of HJ 633 (above 800 µg/m³ no IAQI of their own: the 24h SO2 or
1h O3 column stands in, else 200 or 300).

A bad line (a cell that is not a number, a negative or infinite value, a wrong number of fields)
is reported on stderr, one line per bad cell, e.g. ``line 7, column pm25_24h: "abc" is not a
number`` (lines counted as in the file, header = line 1), and left out; good lines are still
written. Exit status: 0 all lines good, 1 some lines bad, 2 nothing usable (empty input, no
pollutant column, a duplicated pollutant column, an unknown edition).

Rows are evaluated in chunks of :data:`CHUNK_ROWS`, so a big file streams.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import numpy as np

from emission_list.aqi import COLUMNS, evaluate_columns, pollutant_names
from emission_list.breakpoints import BreakpointTable, get_table

CHUNK_ROWS = 65_536
#: Cell texts read as a missing value (compared after stripping, case-insensitively).
MISSING_MARKERS = frozenset({"", "na", "/", "nan"})
ADDED = ("aqi", "category", "primary", "beyond_range")

EXIT_OK, EXIT_SOME_BAD, EXIT_UNUSABLE = 0, 1, 2
_INPUT = {"encoding": "utf-8-sig", "newline": ""}  # a BOM, as Excel writes, is dropped


class _Header:
    """Where the pollutant columns are, and the added columns' names."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.columns: dict[str, int] = {}  # canonical column -> field index
        self.problems: list[str] = []
        for i, raw in enumerate(names):
            key = raw.strip().lstrip("\ufeff").strip().lower()
            if key in COLUMNS:
                if key in self.columns:
                    self.problems.append(f"line 1, column {key}: appears more than once")
                self.columns.setdefault(key, i)
        taken = {n.strip().lstrip("\ufeff").strip().lower() for n in names}
        self.added = [f"iaqi_{c}" for c in self.columns] + list(ADDED)
        for name in self.added:
            if name in taken:
                self.problems.append(
                    f"line 1, column {name}: the input already has a column the output adds"
                )
        if not self.columns:
            self.problems.append(
                "line 1: no pollutant column; expected any of " + ", ".join(COLUMNS)
            )


def _parse_cell(text: str) -> tuple[float, str | None]:
    """(value, problem): NaN for a missing marker; a problem text for a bad cell."""
    s = text.strip()
    if s.lower() in MISSING_MARKERS:
        return math.nan, None
    try:
        if "_" in s:
            raise ValueError
        value = float(s)
    except ValueError:
        return math.nan, f'"{s}" is not a number'
    if math.isinf(value):
        return math.nan, f'"{s}" is not a finite number'
    if value < 0:
        return math.nan, f'"{s}" is negative'
    return value, None


def _records(
    reader: Iterator[list[str]], line_of: Callable[[], int]
) -> Iterator[tuple[int, list[str]]]:
    """Records with the file line each starts on (a quoted field may span lines)."""
    start = 2
    for row in reader:
        yield start, row
        start = line_of() + 1


def _format_int(values: np.ndarray) -> list[str]:
    return ["" if math.isnan(v) else str(int(v)) for v in values.tolist()]


def _flush(
    rows: list[list[str]],
    values: dict[str, list[float]],
    header: _Header,
    table: BreakpointTable,
    writer: Any,  # a csv.writer
) -> None:
    """Evaluate a chunk of good rows and write them with the added columns."""
    if not rows:
        return
    result = evaluate_columns({c: np.array(v) for c, v in values.items()}, table)
    added = [_format_int(result.iaqi_by_column[c]) for c in header.columns]
    added.append(_format_int(result.aqi))
    added.append([str(c) if c else "" for c in result.category.tolist()])
    added.append(pollutant_names(result.primary).tolist())
    added.append(pollutant_names(result.beyond_range).tolist())
    writer.writerows(row + list(extra) for row, *extra in zip(rows, *added, strict=True))


def run(source: TextIO, sink: TextIO, errors: TextIO, edition: str | None) -> int:
    """IAQI and AQI for the CSV on ``source``: CSV to ``sink``, one line per problem to ``errors``.

    Parameters
    ----------
    source, sink, errors : TextIO
        Input CSV, output CSV, and one line per problem.
    edition : str or None
        HJ 633 edition (``"2012"``, ``"2026"``, ``"HJ 633-2012"``, ...); None: in force today.

    Returns
    -------
    int
        0 all lines good, 1 some lines bad (good lines written), 2 nothing usable.
    """
    try:
        table = get_table(edition)
    except ValueError as exc:
        print(f"haze aqi: {exc}", file=errors)
        return EXIT_UNUSABLE
    reader = csv.reader(source)
    names = next(reader, None)
    if names is None:
        print("line 1: no header: the input is empty", file=errors)
        return EXIT_UNUSABLE
    header = _Header(names)
    if header.problems:
        for problem in header.problems:
            print(problem, file=errors)
        return EXIT_UNUSABLE

    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(names + header.added)
    bad_lines = 0
    rows: list[list[str]] = []
    values: dict[str, list[float]] = {c: [] for c in header.columns}
    for line, row in _records(reader, lambda: reader.line_num):
        if not row:
            continue  # a blank line
        if len(row) != len(names):
            print(f"line {line}: {len(row)} fields, the header has {len(names)}", file=errors)
            bad_lines += 1
            continue
        parsed, problems = {}, []
        for column, i in header.columns.items():
            parsed[column], problem = _parse_cell(row[i])
            if problem:
                problems.append(f"line {line}, column {names[i].strip()}: {problem}")
        if problems:
            print("\n".join(problems), file=errors)
            bad_lines += 1
            continue
        rows.append(row)
        for column, value in parsed.items():
            values[column].append(value)
        if len(rows) == CHUNK_ROWS:
            _flush(rows, values, header, table, writer)
            rows, values = [], {c: [] for c in header.columns}
    _flush(rows, values, header, table, writer)
    return EXIT_SOME_BAD if bad_lines else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="haze aqi",
        description="Read CSV concentrations (stdin when no FILE) and write CSV with IAQI and "
        "AQI (HJ 633).",
    )
    parser.add_argument(
        "--standard", choices=["2012", "2026"], help="HJ 633 edition (default: in force today)"
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="CSV file (default: stdin)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``haze aqi``; returns the exit status."""
    args = build_parser().parse_args(argv)
    for stream, options in ((sys.stdout, {"newline": ""}), (sys.stdin, _INPUT)):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(**options)
    if args.file is None:
        return run(sys.stdin, sys.stdout, sys.stderr, args.standard)
    try:
        with open(args.file, **_INPUT) as source:
            return run(source, sys.stdout, sys.stderr, args.standard)
    except OSError as exc:
        print(f"haze aqi: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except UnicodeDecodeError as exc:
        print(f"haze aqi: {args.file} is not UTF-8 text: {exc.reason}", file=sys.stderr)
        return EXIT_UNUSABLE


if __name__ == "__main__":
    sys.exit(main())
