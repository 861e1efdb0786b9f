"""Validation of list entries: every bad field, with a stable code and a bilingual message.

Validation reports **every** bad field of every entry as a :class:`FieldError` with a stable
code and a message in Chinese and English, so an operator fixes a whole import in one pass.
:func:`emission_list.revisions.validate_revision` applies it to a whole revision.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emission_list import credit_code
from emission_list.catalog import Catalog
from emission_list.catalog_load import is_fraction
from emission_list.entries import OVERRIDE_LEVELS, Enterprise
from emission_list.i18n import LANGUAGES, Text, is_bilingual, text
from emission_list.levels import LIST_POLLUTANTS
from emission_list.lines import LINE_MESSAGES, channel_clashes, line_problems

_POLLUTANT_NAMES = {"so2": "SO2", "nox": "NOx", "pm": "PM", "vocs": "VOCs"}
_LEVEL_NAMES = {
    "yellow": text("黄色预警", "yellow warning"),
    "orange": text("橙色预警", "orange warning"),
    "red": text("红色预警", "red warning"),
}

#: Bilingual message templates of the validation codes; ``{name}`` fields are filled per error.
MESSAGES: Mapping[str, Text] = {
    "credit_code.length": text(
        "统一社会信用代码应为 18 位，实为 {length} 位",
        "The unified social credit code must have 18 characters, not {length}",
    ),
    "credit_code.charset": text(
        "统一社会信用代码含有不使用的字符 {chars}（不用 I、O、S、V、Z 和小写字母）",
        "The unified social credit code has characters it never uses: {chars} "
        "(no I, O, S, V, Z or lower case)",
    ),
    "credit_code.check": text(
        "统一社会信用代码校验位错误：应为 {expected}，实为 {actual}",
        "Wrong check character of the unified social credit code: {expected} expected, "
        "{actual} found",
    ),
    "duplicate_id": text(
        "统一社会信用代码 {value} 重复（已见于第 {first} 条）",
        "Duplicate unified social credit code {value} (already entry {first})",
    ),
    "name.empty": text("企业名称不能为空", "The enterprise name must not be empty"),
    "region.unknown": text("未知区划 {value}", "Unknown region {value}"),
    "region.not_leaf": text(
        "区划 {value} 不是最末级区划（街道、镇）",
        "Region {value} is not a leaf region (subdistrict or town)",
    ),
    "industry.unknown": text("未知行业 {value}", "Unknown industry {value}"),
    "grade.unknown": text("未知绩效等级 {value}", "Unknown performance grade {value}"),
    "grade.not_in_industry": text(
        "行业 {industry} 不使用绩效等级 {value}（可用：{grades}）",
        "Industry {industry} does not use grade {value} (it uses {grades})",
    ),
    "guaranteed_supply.type": text(
        "保障类标志应为是或否，实为 {value}",
        "The guaranteed-supply flag must be yes or no, not {value}",
    ),
    "baseline.shape": text(
        "基准排放量应为 SO2、NOx、PM、VOCs 四个数值，实为 {count} 个",
        "The baseline needs four values (SO2, NOx, PM, VOCs), not {count}",
    ),
    "baseline.not_finite": text(
        "{pollutant} 基准排放量应为有限数值（kg/d），实为 {value}",
        "The {pollutant} baseline must be a finite number [kg/day], not {value}",
    ),
    "baseline.negative": text(
        "{pollutant} 基准排放量不能为负：{value} kg/d",
        "The {pollutant} baseline must not be negative: {value} kg/day",
    ),
    "override.level": text(
        "措施调整的预警级别 {value} 无效（应为 yellow、orange 或 red）",
        "Overrides are for yellow, orange or red, not {value}",
    ),
    "override.cut_range": text(
        "{level}限产比例应在 0 到 1 之间，实为 {value}",
        "The production cut at {level} must lie in 0..1, not {value}",
    ),
    "override.shape": text(
        "{level}减排比例应为 SO2、NOx、PM、VOCs 四个数值，实为 {count} 个",
        "The reduction fractions at {level} need four values (SO2, NOx, PM, VOCs), not {count}",
    ),
    "override.fraction_range": text(
        "{level} {pollutant} 减排比例应在 0 到 1 之间，实为 {value}",
        "The {pollutant} reduction fraction at {level} must lie in 0..1, not {value}",
    ),
    "override.action_text": text(
        "{level}第 {position} 条措施须有中文和英文表述",
        "Measure {position} at {level} needs a text in Chinese and in English",
    ),
    "override.action_pollutants": text(
        "{level}第 {position} 条措施的污染物须为 SO2、NOx、PM、VOCs 之一",
        "Measure {position} at {level} must name pollutants among SO2, NOx, PM, VOCs",
    ),
    **LINE_MESSAGES,
}


def format_message(code: str, **params: object) -> dict[str, str]:
    """The bilingual message of a validation code, its ``{name}`` fields filled in."""

    def value(v: object, lang: str) -> object:
        # A bilingual text gives its language; any other value (a bad input) is shown as is.
        return v[lang] if isinstance(v, Mapping) and lang in v else v

    return {
        lang: MESSAGES[code][lang].format(**{k: value(v, lang) for k, v in params.items()})
        for lang in LANGUAGES
    }


@dataclass(frozen=True)
class FieldError:
    """One bad field of one entry.

    ``index`` is the entry's position in what was validated; ``field`` is an
    :data:`~emission_list.entries.ENTRY_FIELDS` name or a path below one
    (``baseline.pm``, ``overrides.red.fractions.vocs``); ``code`` is stable and
    machine-readable; ``message`` is bilingual.
    """

    index: int
    enterprise_id: str
    field: str
    code: str
    message: Mapping[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "enterprise_id": self.enterprise_id,
            "field": self.field,
            "code": self.code,
            "message": dict(self.message),
        }


def validate_entry(
    entry: Enterprise,
    catalog: Catalog,
    leaf_regions: Collection[str],
    index: int = 0,
    *,
    regions: Collection[str] | None = None,
) -> list[FieldError]:
    """Every bad field of one entry.

    Parameters
    ----------
    entry
        The entry.
    catalog
        Industries and grades it may use.
    leaf_regions
        Ids of the leaf regions (subdistricts, towns).
    index
        Position reported in each error.
    regions
        Ids of all regions; when given, a known region that is not a leaf is reported as
        ``region.not_leaf`` rather than ``region.unknown``.
    """
    errors: list[FieldError] = []

    def add(field_name: str, code: str, **params: object) -> None:
        msg = format_message(code, **params)
        errors.append(FieldError(index, str(entry.enterprise_id), field_name, code, msg))

    eid = entry.enterprise_id
    for code in credit_code.validate(eid):
        if code == credit_code.ERROR_LENGTH:
            add("enterprise_id", code, length=len(eid) if isinstance(eid, str) else 0)
        elif code == credit_code.ERROR_CHARSET:
            bad = "".join(dict.fromkeys(c for c in str(eid) if c not in credit_code.CHARSET))
            add("enterprise_id", code, chars=bad or "?")
        else:
            add(
                "enterprise_id",
                code,
                expected=credit_code.check_character(eid[:17]),
                actual=eid[17],
            )
    if not isinstance(entry.name, str) or not entry.name.strip():
        add("name", "name.empty")
    if entry.region not in leaf_regions:
        known = regions is not None and entry.region in regions
        add("region", "region.not_leaf" if known else "region.unknown", value=entry.region)
    industry = catalog.industries.get(entry.industry)
    if industry is None:
        add("industry", "industry.unknown", value=entry.industry)
    if entry.grade not in catalog.grades:
        add("grade", "grade.unknown", value=entry.grade)
    elif industry is not None and entry.grade not in industry.grades:
        grades = ", ".join(industry.grades)
        add(
            "grade",
            "grade.not_in_industry",
            value=entry.grade,
            industry=industry.code,
            grades=grades,
        )
    if not isinstance(entry.guaranteed_supply, bool):
        add("guaranteed_supply", "guaranteed_supply.type", value=entry.guaranteed_supply)

    if len(entry.baseline) != len(LIST_POLLUTANTS):
        add("baseline", "baseline.shape", count=len(entry.baseline))
    else:
        for p, v in zip(LIST_POLLUTANTS, entry.baseline, strict=True):
            name = _POLLUTANT_NAMES[p]
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
                add(f"baseline.{p}", "baseline.not_finite", pollutant=name, value=v)
            elif v < 0:
                add(f"baseline.{p}", "baseline.negative", pollutant=name, value=v)

    for key, override in entry.overrides.items():
        where = f"overrides.{key}"
        if key not in OVERRIDE_LEVELS:
            add(where, "override.level", value=key)
        level = _LEVEL_NAMES.get(key, key)
        cut = override.production_cut
        if cut is not None and not is_fraction(cut):
            add(f"{where}.production_cut", "override.cut_range", level=level, value=cut)
        fractions = override.fractions
        if fractions is not None and len(fractions) != len(LIST_POLLUTANTS):
            add(f"{where}.fractions", "override.shape", level=level, count=len(fractions))
        elif fractions is not None:
            for p, f in zip(LIST_POLLUTANTS, fractions, strict=True):
                if f is not None and not is_fraction(f):
                    name = _POLLUTANT_NAMES[p]
                    code = "override.fraction_range"
                    add(f"{where}.fractions.{p}", code, level=level, pollutant=name, value=f)
        for i, action in enumerate(override.actions or ()):
            if not is_bilingual(action.text):
                add(f"{where}.actions.{i}", "override.action_text", level=level, position=i + 1)
            if not action.pollutants or set(action.pollutants) - set(LIST_POLLUTANTS):
                code = "override.action_pollutants"
                add(f"{where}.actions.{i}", code, level=level, position=i + 1)
    for path, code, params in line_problems(entry.lines):
        add(path, code, **params)
    return errors


def validate_entries(
    entries: Sequence[Enterprise],
    catalog: Catalog,
    leaf_regions: Collection[str],
    *,
    regions: Collection[str] | None = None,
) -> list[FieldError]:
    """Every bad field of every entry of a sequence (an import), duplicates included.

    A code seen before is reported as ``duplicate_id`` at each later index (messages count
    entries from 1, as people do; ``index`` counts from 0); so is a logger channel that
    already meters a line (``line.channel_taken``, at the later line).
    """
    errors: list[FieldError] = []
    first: dict[str, int] = {}
    leaves = leaf_regions if isinstance(leaf_regions, set | frozenset) else set(leaf_regions)
    if regions is not None and not isinstance(regions, set | frozenset):
        regions = set(regions)
    for i, entry in enumerate(entries):
        errors.extend(validate_entry(entry, catalog, leaves, i, regions=regions))
        eid = entry.enterprise_id
        if eid in first:
            # 1-based for people
            msg = format_message("duplicate_id", value=eid, first=first[eid] + 1)
            errors.append(FieldError(i, eid, "enterprise_id", "duplicate_id", msg))
        else:
            first[eid] = i
    for index, path, code, params in channel_clashes(e.lines for e in entries):
        eid = entries[index].enterprise_id
        errors.append(FieldError(index, eid, path, code, format_message(code, **params)))
    errors.sort(key=lambda error: error.index)  # stable: an entry's errors in field order
    return errors
