"""List files as an operator would upload them, built in a test: CSV or XLSX (openpyxl) with
the import's columns, from entries, with any cell replaced to make a row bad.

``list_rows(entries)`` gives one ``{column: value}`` per entry (numbers as numbers);
``bad_row(entry, column=value)`` one of them changed; ``xlsx_bytes(rows)`` and
``csv_bytes(rows)`` the file. Shared by the page tests, the browser tests and the lead's
end-to-end scenario.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from openpyxl import Workbook

from emission_list.credit_code import make_codes
from emission_list.entries import Enterprise
from service.services.list_io import COLUMNS, to_row

Row = Mapping[str, object]


def _cell(column: str, value: str) -> object:
    """A spreadsheet's own type for a baseline (a number), text for the rest."""
    if column.startswith("baseline_") and value:
        try:
            return float(value)
        except ValueError:
            return value
    return value


def list_rows(entries: Iterable[Enterprise]) -> list[dict[str, object]]:
    return [{c: _cell(c, v) for c, v in to_row(e).items()} for e in entries]


def bad_row(entry: Enterprise, **cells: object) -> dict[str, object]:
    """The row of ``entry`` with ``cells`` replaced (e.g. ``baseline_pm=-5``)."""
    return {**list_rows([entry])[0], **cells}


def xlsx_bytes(rows: Sequence[Row], columns: Sequence[str] = COLUMNS) -> bytes:
    """A workbook whose first sheet has a header of ``columns`` and one line per row."""
    book = Workbook()
    sheet = book.active
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: Sequence[Row], columns: Sequence[str] = COLUMNS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return out.getvalue().encode(encoding)


def new_codes(n: int, taken: Iterable[str], seed: int = 20261001) -> list[str]:
    """``n`` valid credit codes none of ``taken``."""
    used = set(taken)
    codes = [str(c) for c in make_codes(np.random.default_rng(seed), n + len(used))]
    return [c for c in codes if c not in used][:n]
