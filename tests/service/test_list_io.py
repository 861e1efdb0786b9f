"""List files: the sample list round-trips through CSV and XLSX; bad rows are reported by line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import Workbook

from emission_list.catalog import default_catalog
from emission_list.samples import kundulun_list, kundulun_region_tree
from service.services.list_io import COLUMNS, read_file, to_row, write_csv

TREE = kundulun_region_tree()
LEAVES = TREE.leaves


def read(path: Path):
    return read_file(path, default_catalog(), LEAVES, TREE.ids)


def test_the_sample_list_round_trips_through_csv(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    text = io.StringIO()
    assert write_csv(kundulun_list().entries, text) == len(kundulun_list().entries)
    path.write_text(text.getvalue(), encoding="utf-8")
    seen: list[int] = []
    result = read_file(path, default_catalog(), LEAVES, TREE.ids, progress=seen.append)
    assert result.problems == []
    assert tuple(result.entries) == kundulun_list().entries
    assert seen[-1] == len(kundulun_list().entries)


def test_the_sample_list_round_trips_through_xlsx(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for entry in kundulun_list().entries:
        row = to_row(entry)
        sheet.append([row[c] for c in COLUMNS])
    path = tmp_path / "list.xlsx"
    book.save(path)
    result = read(path)
    assert result.problems == [] and tuple(result.entries) == kundulun_list().entries


def test_every_problem_of_every_row_is_reported_by_line_and_good_rows_kept(tmp_path: Path) -> None:
    rows = [to_row(e) for e in kundulun_list().entries[:4]]
    rows[1] |= {"region": "150203", "grade": "Q"}
    rows[2] |= {"baseline_pm": "NA", "overrides": "{not json"}
    rows[3] |= {"enterprise_id": rows[3]["enterprise_id"][:-1] + "0"}
    path = tmp_path / "bad.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    result = read(path)
    found = {(p.line, p.code) for p in result.problems}
    assert (3, "region.not_leaf") in found
    assert any(line == 3 and code.startswith("grade.") for line, code in found)
    assert (4, "row.unreadable") in found
    assert (5, "credit_code.check") in found
    assert not any(line == 2 for line, _ in found)
    assert len(result.entries) == 3


def test_lines_are_read_from_their_json_column_and_their_problems_reported_by_line(
    tmp_path: Path,
) -> None:
    metered = [e for e in kundulun_list().entries if e.lines][:4]
    rows = [to_row(e) for e in metered]
    assert json.loads(rows[0]["lines"]) == [line.to_dict() for line in metered[0].lines]
    rows[1]["lines"] = "[{not json"
    rows[2]["lines"] = rows[0]["lines"]  # the same logger channels as line 2's
    bad = json.loads(rows[3]["lines"])
    bad[0]["rated_kw"] = 0
    rows[3]["lines"] = json.dumps(bad, ensure_ascii=False)
    path = tmp_path / "lines.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    result = read(path)
    found = {(p.line, p.field, p.code) for p in result.problems}
    assert (3, "row", "row.unreadable") in found
    assert (4, "lines.0.channel", "line.channel_taken") in found
    assert (5, "lines.0.rated_kw", "line.rated_kw") in found
    assert not any(line == 2 for line, _, _ in found)
    assert result.entries[0] == metered[0]


def test_a_file_without_a_lines_column_reads_entries_without_lines(tmp_path: Path) -> None:
    entries = kundulun_list().entries[:3]
    columns = [c for c in COLUMNS if c != "lines"]
    path = tmp_path / "old.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(to_row(e) for e in entries)
    result = read(path)
    assert result.problems == [] and all(e.lines == () for e in result.entries)
    assert [e.enterprise_id for e in result.entries] == [e.enterprise_id for e in entries]
