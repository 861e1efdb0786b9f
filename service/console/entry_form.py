"""The entry form: an entry's fields as form values and back, and validation problems by field.

Form values are the strings a person typed, kept as typed when the form comes back with
problems. Each input is named after the validation's field path with ``_`` for ``.``
(``baseline.pm`` → ``baseline_pm``, ``overrides.red.fractions.vocs`` →
``overrides_red_fractions_vocs``); an override's actions (bilingual texts with their
pollutants) travel as JSON in one hidden input and are listed in words beside it, and so do
the entry's metered lines (``lines``, shown as a table; they are edited through the API or a
list file, the form keeps them as they are).
Fractions are typed as fractions (0–1), as the validation messages speak of them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from emission_list.entries import OVERRIDE_LEVELS, Enterprise, MeasureOverride
from emission_list.i18n import Text
from emission_list.levels import LIST_POLLUTANTS
from emission_list.lines import Line, read_lines
from emission_list.revisions import FieldError

TEXT_FIELDS = ("enterprise_id", "name", "name_en", "region", "industry", "grade", "contact")
BASELINE_FIELDS = tuple(f"baseline_{p}" for p in LIST_POLLUTANTS)
LINES_FIELD = "lines"
#: Longest value a text input takes (the database keeps names to 200 characters).
MAX_CHARS = 200
_ACTION_INDEX = re.compile(r"_actions_\d+$")


def cut_field(level: str) -> str:
    return f"overrides_{level}_production_cut"


def fraction_field(level: str, pollutant: str) -> str:
    return f"overrides_{level}_fractions_{pollutant}"


def actions_field(level: str) -> str:
    return f"overrides_{level}_actions"


def clear_actions_field(level: str) -> str:
    return f"overrides_{level}_actions_clear"


def form_fields() -> tuple[str, ...]:
    """Every input of the form, by name."""
    levels = tuple(
        name
        for level in OVERRIDE_LEVELS
        for name in (
            cut_field(level),
            *(fraction_field(level, p) for p in LIST_POLLUTANTS),
            actions_field(level),
            clear_actions_field(level),
        )
    )
    return (*TEXT_FIELDS, "guaranteed_supply", *BASELINE_FIELDS, *levels, LINES_FIELD)


def input_name(path: str) -> str:
    """The input a validation field path belongs to."""
    if path.split(".", 1)[0] == LINES_FIELD:
        return LINES_FIELD
    name = _ACTION_INDEX.sub("_actions", path.replace(".", "_"))
    return "baseline_so2" if name == "baseline" else name


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if isinstance(value, float) and math.isnan(value):
        return ""
    shown = repr(float(value))  # repr reads back exactly: an unchanged form changes nothing
    return shown.removesuffix(".0")


def values_of(entry: Enterprise) -> dict[str, str]:
    """An entry as the form's values (every input, empty where the entry has nothing)."""
    values = dict.fromkeys(form_fields(), "")
    values.update((name, str(getattr(entry, name))) for name in TEXT_FIELDS)
    values["guaranteed_supply"] = "true" if entry.guaranteed_supply is True else ""
    for name, value in zip(BASELINE_FIELDS, entry.baseline, strict=False):
        values[name] = _number(value)
    for level, override in entry.overrides.items():
        if level not in OVERRIDE_LEVELS:
            continue
        values[cut_field(level)] = _number(override.production_cut)
        for pollutant, value in zip(LIST_POLLUTANTS, override.fractions or (), strict=False):
            values[fraction_field(level, pollutant)] = _number(value)
        if override.actions is not None:
            actions = [a.to_dict() for a in override.actions]
            values[actions_field(level)] = json.dumps(actions, ensure_ascii=False)
    if entry.lines:
        lines = [line.to_dict() for line in entry.lines]
        values[LINES_FIELD] = json.dumps(lines, ensure_ascii=False)
    return values


def lines_of(values: Mapping[str, str]) -> tuple[Line, ...]:
    """The lines the form carries, to show (none when their JSON does not read)."""
    try:
        return read_lines(json.loads(values.get(LINES_FIELD) or "[]"))
    except (ValueError, TypeError):
        return ()


def values_from(form: Mapping[str, Any]) -> dict[str, str]:
    """The form's values as typed (inputs it does not have are left out)."""
    return {name: str(form[name]).strip() for name in form_fields() if name in form}


@dataclass(frozen=True)
class ParsedForm:
    """The entry the form describes, or None with the problems that kept it from being read."""

    entry: Enterprise | None
    problems: dict[str, list[Text]] = field(default_factory=dict)


def _actions(values: Mapping[str, str], level: str) -> tuple[object, str | None]:
    """An override's actions from their JSON (None: the catalog's), or a problem."""
    raw = values.get(actions_field(level), "")
    if not raw or values.get(clear_actions_field(level)):
        return None, None
    try:
        actions = json.loads(raw)
    except ValueError:
        return None, "unreadable"
    return (actions, None) if isinstance(actions, list) else (None, "unreadable")


def parse(
    values: Mapping[str, str], unreadable_actions: Text, unreadable_lines: Text
) -> ParsedForm:
    """The entry of the form's values; every value is kept as typed (validation reports a
    value that is not a number, a fraction or a known code), only actions or lines that are
    not JSON stop the entry from being read."""
    data: dict[str, Any] = {name: values.get(name, "")[:MAX_CHARS] for name in TEXT_FIELDS}
    data["guaranteed_supply"] = values.get("guaranteed_supply") == "true"
    data["baseline"] = [values.get(name, "") for name in BASELINE_FIELDS]
    overrides: dict[str, dict[str, Any]] = {}
    problems: dict[str, list[Text]] = {}
    for level in OVERRIDE_LEVELS:
        cut = values.get(cut_field(level), "")
        fractions = {
            p: value for p in LIST_POLLUTANTS if (value := values.get(fraction_field(level, p)))
        }
        actions, problem = _actions(values, level)
        if cut or fractions or actions is not None:
            overrides[level] = {
                "production_cut": cut or None,
                "fractions": fractions or None,
                "actions": actions,
            }
            try:  # actions of the wrong shape cannot even be held
                MeasureOverride.from_dict(overrides[level])
            except (TypeError, ValueError, AttributeError, KeyError):
                problem = "unreadable"
        if problem:
            problems[actions_field(level)] = [unreadable_actions]
    data["overrides"] = overrides
    try:
        data[LINES_FIELD] = read_lines(json.loads(values.get(LINES_FIELD) or "[]"))
    except (ValueError, TypeError):
        problems[LINES_FIELD] = [unreadable_lines]
    if problems:
        return ParsedForm(None, problems)
    return ParsedForm(Enterprise.from_dict(data))


def problems_by_input(errors: Iterable[FieldError]) -> dict[str, list[Text]]:
    """Validation problems grouped by the input they are shown beside."""
    found: dict[str, list[Text]] = {}
    for error in errors:
        found.setdefault(input_name(error.field), []).append(error.message)
    return found
