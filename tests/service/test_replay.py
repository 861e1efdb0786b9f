"""``haze replay``: the sample episode's timeline, end to end through the domain core."""

import io

import pytest

from emission_list.samples import kundulun_episode
from service.commands import replay
from service.commands.cli import main as haze


@pytest.fixture(scope="module")
def timeline() -> str:
    out = io.StringIO()
    assert replay.main(language="en", out=out) == 0
    return out.getvalue()


def test_events_follow_the_expected_lifecycle_of_the_sample_forecasts():
    clock = replay.EpisodeClock(kundulun_episode())
    clock.advance(kundulun_episode().forecasts[-1].issued_at)
    kinds = [(e.region, e.kind) for e in clock.events if e.region == "150203"]
    changes = [k for _, k in kinds if k in ("issue", "upgrade", "downgrade", "lift")]
    assert changes == ["issue", "upgrade", "downgrade", "lift"]


def test_timeline_shows_levels_per_day_and_what_the_list_cuts(timeline):
    lines = timeline.splitlines()
    day_rows = [line for line in lines if line.startswith("2026-12-")]
    assert len(day_rows) == 14
    levels = {row.split()[0]: row.split()[3] for row in day_rows}
    assert set(levels.values()) >= {"none", "yellow", "orange"}
    for row in day_rows:
        fields = row.split()
        affected, so2 = int(fields[4]), float(fields[5])
        if fields[3] == "none":
            assert affected == 0 and so2 == 0
        else:
            assert affected > 0 and so2 > 0
    # The level matrix names every sample region once.
    assert "Kundulun" in timeline and "Buerhantu" in timeline


def test_orange_days_cut_more_than_yellow_days(timeline):
    rows = [line.split() for line in timeline.splitlines() if line.startswith("2026-12-")]
    by_level = {}
    for fields in rows:
        by_level.setdefault(fields[3], []).append(float(fields[5]))
    assert min(by_level["orange"]) > max(by_level["yellow"])


def test_chinese_timeline_and_cli_entry_point(capsys):
    assert haze(["replay", "--offline", "--lang", "zh-CN"]) == 0
    out = capsys.readouterr().out
    assert "预警事件" in out and "昆都仑区" in out


def test_live_replay_lines_say_in_words_what_a_forecast_did() -> None:
    from service.commands.replay_live import describe

    body = {
        "region": "150203",
        "issued_at": "2026-12-05T08:00:00+08:00",
        "daily": [{"date": "2026-12-05", "aqi": 220}, {"date": "2026-12-08", "aqi": 260}],
    }
    orange = {"level": "orange", "alert": {"level": "orange"}, "enterprises_changed": 90}
    issued = describe(body, orange | {"events": [{"kind": "issue"}]})
    assert issued == (
        "12-05 08:00 forecast for 150203 (12-05..12-08, peak AQI 260): "
        "issues the orange warning; 90 enterprises must change what they do"
    )
    same = describe(body, orange | {"events": [], "enterprises_changed": 0})
    assert same.endswith("already at orange, no change; nothing changes for enterprises")
    lower = {"level": "none", "alert": {"level": "orange"}, "events": [], "enterprises_changed": 0}
    assert "decides no warning, but the orange warning in force stays" in describe(body, lower)
    again = describe(body, orange | {"events": [], "duplicate": True})
    assert again.endswith("already applied before, nothing changes")
