"""The compliance check's layout from the published list and the registered loggers.

Every entry's lines (``Enterprise.lines``) and every stack monitor (CEMS logger) registered
for a listed enterprise are laid out as rows of :class:`emission_list.compliance.ComplianceLayout`;
:class:`Layout` keeps, beside it, how telemetry finds its row: a line by its logger's MN and
power channel, a CEMS channel by its logger's MN and pollutant code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from emission_list.compliance import ComplianceLayout, lines_and_pairs
from emission_list.compliance_rules import CEMS_POLLUTANTS, ComplianceRules
from emission_list.entries import Enterprise
from service.gateway.directory import Registration

#: The oxygen content item of a CEMS (HJ 212-2017 Table B.2), for the reference-O2 conversion.
OXYGEN = "a19001"


@dataclass(frozen=True)
class Layout:
    """The layout and its lookups. ``enterprise_ids`` (E,) in row order; ``line_ids`` and
    ``line_channel`` (L,) each line's id and ``(mn, channel)``; ``logger_mns`` (S,);
    ``cems_channel`` (C,) each CEMS channel's ``(mn, pollutant code)``."""

    arrays: ComplianceLayout
    enterprise_ids: tuple[str, ...]
    line_ids: tuple[str, ...]
    line_names: tuple[str, ...]
    line_channel: tuple[tuple[str, str], ...]
    logger_mns: tuple[str, ...]
    cems_channel: tuple[tuple[str, str], ...]
    line_of: dict[tuple[str, str], int]
    cems_of: dict[tuple[str, str], int]
    logger_of: dict[str, int]

    @property
    def empty(self) -> bool:
        return not self.enterprise_ids


def build_layout(
    entries: Iterable[Enterprise], registrations: Iterable[Registration], rules: ComplianceRules
) -> Layout:
    """Lay out the lines of ``entries`` and the CEMS loggers among ``registrations``."""
    cems_by_owner: dict[str, list[str]] = {}
    for registration in registrations:
        if registration.kind == "cems":
            cems_by_owner.setdefault(registration.owner, []).append(registration.mn)
    enterprises = [e for e in entries if e.lines or e.enterprise_id in cems_by_owner]
    logger_of: dict[str, int] = {}
    logger_enterprise: list[int] = []

    def slot(mn: str, enterprise_row: int) -> int:
        if mn not in logger_of:
            logger_of[mn] = len(logger_enterprise)
            logger_enterprise.append(enterprise_row)
        return logger_of[mn]

    line_enterprise, is_control, rated, line_logger = [], [], [], []
    line_ids, line_names, line_channel = [], [], []
    serves: list[list[int]] = []
    line_of: dict[tuple[str, str], int] = {}
    for row, entry in enumerate(enterprises):
        first = len(line_ids)
        own = {line.line_id: first + k for k, line in enumerate(entry.lines)}
        for line in entry.lines:
            line_of[(line.logger, line.channel)] = len(line_ids)
            line_enterprise.append(row)
            is_control.append(line.kind == "control")
            rated.append(float(line.rated_kw))
            line_logger.append(slot(line.logger, row))
            line_ids.append(line.line_id)
            line_names.append(line.name or line.line_id)
            line_channel.append((line.logger, line.channel))
            serves.append([own[p] for p in line.serves if p in own])
    cems_enterprise, cems_pollutant, cems_channel = [], [], []
    cems_of: dict[tuple[str, str], int] = {}
    for row, entry in enumerate(enterprises):
        for mn in sorted(cems_by_owner.get(entry.enterprise_id, ())):
            slot(mn, row)
            for column, code in enumerate(CEMS_POLLUTANTS):
                cems_of[(mn, code)] = len(cems_channel)
                cems_enterprise.append(row)
                cems_pollutant.append(column)
                cems_channel.append((mn, code))
    serve_control, serve_production = lines_and_pairs(serves)
    arrays = ComplianceLayout(
        enterprise_industry=rules.index([e.industry for e in enterprises]),
        line_enterprise=np.array(line_enterprise, np.intp),
        line_is_control=np.array(is_control, bool),
        line_rated_kw=np.array(rated, np.float64),
        line_logger=np.array(line_logger, np.intp),
        serve_control=serve_control,
        serve_production=serve_production,
        logger_enterprise=np.array(logger_enterprise, np.intp),
        cems_enterprise=np.array(cems_enterprise, np.intp),
        cems_pollutant=np.array(cems_pollutant, np.intp),
    )
    return Layout(
        arrays=arrays,
        enterprise_ids=tuple(e.enterprise_id for e in enterprises),
        line_ids=tuple(line_ids),
        line_names=tuple(line_names),
        line_channel=tuple(line_channel),
        logger_mns=tuple(sorted(logger_of, key=logger_of.__getitem__)),
        cems_channel=tuple(cems_channel),
        line_of=line_of,
        cems_of=cems_of,
        logger_of=logger_of,
    )


def board_rows(layout: Layout, row_of: dict[str, int]) -> np.ndarray:
    """(E,) each laid-out enterprise's row on the board (-1: not on it)."""
    return np.array([row_of.get(eid, -1) for eid in layout.enterprise_ids], np.intp)


def codes_of(layout: Layout, mn: str) -> Sequence[str]:
    """The codes of one logger the layout reads (an alarm's evidence series)."""
    line_codes = [channel for logger, channel in layout.line_channel if logger == mn]
    return line_codes + [code for logger, code in layout.cems_channel if logger == mn]
