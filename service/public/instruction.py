"""The ``instruction`` of a CAP document: what the listed enterprises of each grade must do.

For the region of an alert and every region under it: how many enterprises of the published
list hold each grade, and the production cut the action board gives them at the alert's
state (level and response), as a range where industries or one-plant-one-policy entries
differ. The grades come from ``list_entries``' search column; the cuts from the compiled
list of the board. A summary per list revision, region and state is kept in memory.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from emission_list.catalog import Catalog
from emission_list.i18n import Text
from emission_list.levels import Level
from emission_list.warning_texts import level_name
from service.services.board import ActionBoard
from service.storage.repositories import cap

_CACHE_SIZE = 1024  # summaries per board: regions × states
#: Summaries by board (a rebuilt board, e.g. a new list revision, starts afresh).
_cache: weakref.WeakKeyDictionary[ActionBoard, dict[tuple[str, int], tuple[GradeMeasure, ...]]]
_cache = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class GradeMeasure:
    """The enterprises of one grade under a region, and their production cuts [fraction]."""

    grade: str
    count: int
    min_cut: float
    max_cut: float


async def grade_measures(
    session: AsyncSession, board: ActionBoard, catalog: Catalog, region: str, state: int
) -> tuple[GradeMeasure, ...]:
    """Per grade (catalog order): enterprises under ``region`` and their cuts at ``state``."""
    known_here = _cache.setdefault(board, {})
    key = (region, state)
    if key in known_here:
        return known_here[key]
    compiled = board.evaluator.compiled
    found: tuple[GradeMeasure, ...] = ()
    if region in board.tree and len(compiled):
        under = board.tree.subtree(region)
        grades = await cap.grades_under(session, board.revision, under)
        known = [(compiled.row_of[e], g) for e, g in grades.items() if e in compiled.row_of]
        rows = np.array([row for row, _ in known], dtype=np.intp)
        cuts = compiled.table.cut[compiled.policy_key[rows] + state] if len(rows) else []
        by_grade: dict[str, list[float]] = {}
        for (_, grade), cut in zip(known, list(cuts), strict=True):
            by_grade.setdefault(grade, []).append(cut)
        order = {g: i for i, g in enumerate(catalog.grades)}
        found = tuple(
            GradeMeasure(g, len(c), min(c), max(c))
            for g, c in sorted(by_grade.items(), key=lambda item: order.get(item[0], len(order)))
        )
    if len(known_here) < _CACHE_SIZE:
        known_here[key] = found
    return found


def _percent(cut: float) -> str:
    return f"{round(cut * 100, 1):g}%"


def _cut_words(measure: GradeMeasure, language: str) -> str:
    if measure.max_cut <= 0:
        zh, en = "不限产，落实减排措施", "no production cut, emission measures"
        return zh if language == "zh-CN" else en
    if measure.min_cut >= 1:
        return "停产" if language == "zh-CN" else "stop production"
    if measure.min_cut == measure.max_cut:
        span = _percent(measure.min_cut)
    else:
        span = f"{_percent(measure.min_cut)}–{_percent(measure.max_cut)}"
    return f"限产 {span}" if language == "zh-CN" else f"cut production by {span}"


def instruction(
    measures: tuple[GradeMeasure, ...],
    level: Level,
    lifted: bool,
    catalog: Catalog,
    language: str,
) -> str:
    """The instruction text in ``language``."""
    zh = language == "zh-CN"
    if lifted:
        if zh:
            return "预警已解除，名单内企业可恢复正常生产。"
        return "The warning is lifted: the listed enterprises may resume normal production."
    total = sum(m.count for m in measures)
    name = level_name(level)["zh-CN" if zh else "en"]
    if total == 0:
        if zh:
            return f"{name}预警期间请减少户外活动，落实健康防护。"
        return f"During the {name} warning, limit outdoor activity and protect your health."
    parts = []
    for m in measures:
        grade: Text = catalog.grade_names.get(m.grade, {"zh-CN": m.grade, "en": m.grade})
        label = grade["zh-CN" if zh else "en"]
        count = f"{m.count} 家" if zh else f"{m.count}"
        parts.append(f"{label} {count}：{_cut_words(m, language)}" if zh else
                     f"{label} ({count}): {_cut_words(m, language)}")  # fmt: skip
    if zh:
        return (
            f"名单内 {total} 家企业执行{name}预警减排措施——" + "；".join(parts)
            + "。保障类企业只落实排放措施；各企业以本企业的减排措施为准。"
        )  # fmt: skip
    return (
        f"{total} listed enterprises take the {name} warning measures. " + "; ".join(parts)
        + ". Guaranteed-supply enterprises take emission measures only; each enterprise's own"
        " measures prevail."
    )  # fmt: skip
