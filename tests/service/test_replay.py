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
