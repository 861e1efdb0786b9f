"""``haze aqi``: CSV in, CSV out, errors by line and column, exit status."""

import csv
import io

import pytest

from service.commands import aqi_csv, cli


def lines(*rows):
    return "".join(row + "\n" for row in rows)


def run(text, edition="2026"):
    sink, errors = io.StringIO(), io.StringIO()
    status = aqi_csv.run(io.StringIO(text), sink, errors, edition)
    return status, list(csv.DictReader(io.StringIO(sink.getvalue()))), sink.getvalue(), errors


def test_passthrough_and_added_columns():
    status, rows, out, errors = run(
        lines(
            "station,time,pm25_24h,pm10_24h,note",
            "S1,2026-03-01,75,150,first",
            "S2,2026-03-01,35,50,",
        )
    )
    assert status == 0 and errors.getvalue() == ""
    assert out.splitlines()[0] == (
        "station,time,pm25_24h,pm10_24h,note,"
        "iaqi_pm25_24h,iaqi_pm10_24h,aqi,category,primary,beyond_range"
    )
    assert rows[0] == {
        "station": "S1", "time": "2026-03-01", "pm25_24h": "75", "pm10_24h": "150",
        "note": "first", "iaqi_pm25_24h": "114", "iaqi_pm10_24h": "112", "aqi": "114",
        "category": "3", "primary": "pm25", "beyond_range": "",
    }  # fmt: skip
    assert rows[1]["aqi"] == "50" and rows[1]["primary"] == ""  # AQI <= 50: no primary
    assert rows[1]["category"] == "1" and rows[1]["note"] == ""


def test_header_names_case_and_spaces_are_kept_as_given():
    status, _, out, _ = run(" PM25_24h ,Station\n49,X\n")
    header, line = out.splitlines()
    assert status == 0
    assert header == " PM25_24h ,Station,iaqi_pm25_24h,aqi,category,primary,beyond_range"
    assert line == "49,X,78,78,2,pm25,"


def test_bad_cells_are_reported_and_good_lines_kept():
    status, rows, _, errors = run(
        lines(
            "station,pm25_24h,so2_1h",
            "A,40,10",
            "B,abc,10",
            "C,50,-3",
            "D,60,",
            'E,"12,5",1',
            "F,inf,1",
        )
    )
    assert status == 1
    assert [r["station"] for r in rows] == ["A", "D"]
    assert errors.getvalue().splitlines() == [
        'line 3, column pm25_24h: "abc" is not a number',
        'line 4, column so2_1h: "-3" is negative',
        'line 6, column pm25_24h: "12,5" is not a number',
        'line 7, column pm25_24h: "inf" is not a finite number',
    ]


def test_every_bad_cell_of_a_line_is_reported():
    status, rows, _, errors = run("pm25_24h,pm10_24h\nx,y\n")
    assert status == 1 and rows == []
    assert errors.getvalue().splitlines() == [
        'line 2, column pm25_24h: "x" is not a number',
        'line 2, column pm10_24h: "y" is not a number',
    ]


def test_line_numbers_count_file_lines_across_quoted_newlines():
    status, rows, _, errors = run('note,pm25_24h\n"two\nlines",10\nok,bad\n')
    assert status == 1 and len(rows) == 1 and rows[0]["note"] == "two\nlines"
    assert errors.getvalue() == 'line 4, column pm25_24h: "bad" is not a number\n'


def test_wrong_field_count_is_a_bad_line():
    status, rows, _, errors = run("a,pm25_24h\n1,2\n1,2,3\n\n4,5\n")
    assert status == 1 and [r["a"] for r in rows] == ["1", "4"]  # the blank line is skipped
    assert errors.getvalue() == "line 3: 3 fields, the header has 2\n"


def test_missing_markers():
    status, rows, _, errors = run("pm25_24h,pm10_24h\nNA,80\n/,80\n,80\n na ,80\nNaN,80\n")
    assert status == 0 and errors.getvalue() == ""
    for r in rows:
        assert r["iaqi_pm25_24h"] == "" and r["iaqi_pm10_24h"] == "72"  # 50 + ceil(50*30/70)
        assert r["aqi"] == "72"


def test_all_missing_gives_empty_aqi_and_category():
    status, rows, _, _ = run("pm25_24h,so2_1h\nNA,/\n")
    assert status == 0
    assert rows[0]["aqi"] == "" and rows[0]["category"] == "" and rows[0]["primary"] == ""


def test_pm_1h_is_scored_against_the_24h_table():
    _, rows, _, _ = run("pm25_1h,pm10_1h\n75,150\n")
    assert rows[0]["iaqi_pm25_1h"] == "114" and rows[0]["iaqi_pm10_1h"] == "112"
    assert rows[0]["primary"] == "pm25"


def test_special_rules_and_beyond_range():
    _, rows, _, _ = run(
        "so2_1h,so2_24h,o3_8h,o3_1h,pm25_24h\n"
        "900,,,,10\n"  # SO2 1h > 800, no 24h: 200
        "900,100,,,10\n"  # the 24h mean stands in: 75
        ",,801,,10\n"  # O3 8h > 800, no 1h: 300
        ",,801,250,10\n"  # the 1h value stands in: 125
        ",,,,600\n"  # beyond range: 500
    )
    assert [r["aqi"] for r in rows] == ["200", "75", "300", "125", "500"]
    assert [r["iaqi_so2_1h"] for r in rows[:2]] == ["", ""]
    assert [r["primary"] for r in rows] == ["so2", "so2", "o3", "o3", "pm25"]
    assert [r["beyond_range"] for r in rows] == ["", "", "", "", "pm25"]


def test_ties_are_all_primary_in_pollutant_order():
    _, rows, _, _ = run("pm10_24h,pm25_24h,no2_24h\n150,75,80\n", edition="2012")
    assert rows[0]["aqi"] == "100" and rows[0]["primary"] == "no2;pm10;pm25"


def test_no_known_column_is_unusable():
    status, rows, out, errors = run("station,pm25\nA,1\n")
    assert status == 2 and out == "" and rows == []
    assert errors.getvalue().startswith("line 1: no pollutant column; expected any of so2_1h")


@pytest.mark.parametrize("text", ["", "\n"])
def test_empty_input_is_unusable(text):
    status, _, out, errors = run(text)
    assert status == 2 and out == ""
    assert "line 1" in errors.getvalue()


def test_duplicate_or_clashing_columns_are_unusable():
    status, _, _, errors = run("pm25_24h,PM25_24h\n1,2\n")
    assert status == 2 and "pm25_24h: appears more than once" in errors.getvalue()
    status, _, _, errors = run("pm25_24h,aqi\n1,2\n")
    assert status == 2 and "column aqi: the input already has" in errors.getvalue()


def test_unknown_edition_is_unusable():
    status, _, out, errors = run("pm25_24h\n1\n", edition="2018")
    assert status == 2 and out == "" and "unknown HJ 633 edition" in errors.getvalue()


def test_chunks_keep_order(monkeypatch):
    monkeypatch.setattr(aqi_csv, "CHUNK_ROWS", 2)
    text = "n,pm25_24h\n" + "".join(f"{i},{v}\n" for i, v in enumerate([10, 20, "x", 30, 40, 50]))
    status, rows, _, _ = run(text)
    assert status == 1
    assert [r["n"] for r in rows] == ["0", "1", "3", "4", "5"]
    # 2026: ceil(50*10/35) = 15, ceil(50*20/35) = 29, ceil(50*30/35) = 43, 50 + ceil(50*5/25)
    # = 60, 50 + ceil(50*15/25) = 80
    assert [r["aqi"] for r in rows] == ["15", "29", "43", "60", "80"]


def test_standard_2012_and_2026_differ(tmp_path, capsys):
    path = tmp_path / "readings.csv"
    path.write_text("station,pm25_24h\nA,75\nB,49\n", encoding="utf-8")
    assert aqi_csv.main(["--standard", "2012", str(path)]) == 0
    out2012 = capsys.readouterr().out
    assert aqi_csv.main(["--standard", "2026", str(path)]) == 0
    out2026 = capsys.readouterr().out
    assert out2012.splitlines()[1:] == ["A,75,100,100,2,pm25,", "B,49,68,68,2,pm25,"]
    assert out2026.splitlines()[1:] == ["A,75,114,114,3,pm25,", "B,49,78,78,2,pm25,"]


def test_cli_wires_the_command(tmp_path, capsys):
    path = tmp_path / "readings.csv"
    path.write_bytes("\ufeffpm10_24h,站点\n150,昆区政府\n".encode())  # Excel writes a BOM
    assert cli.main(["aqi", "--standard", "2026", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "pm10_24h,站点,iaqi_pm10_24h,aqi,category,primary,beyond_range",
        "150,昆区政府,112,112,3,pm10,",
    ]


def test_missing_file_is_unusable(tmp_path, capsys):
    assert aqi_csv.main([str(tmp_path / "none.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_main_reads_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("pm25_24h\n75\nbad\n"))
    assert aqi_csv.main(["--standard", "2012"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "pm25_24h,iaqi_pm25_24h,aqi,category,primary,beyond_range",
        "75,100,100,2,pm25,",
    ]
    assert captured.err == 'line 3, column pm25_24h: "bad" is not a number\n'
