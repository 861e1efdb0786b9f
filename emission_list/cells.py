"""Values as people type them into spreadsheet cells and forms: numbers as text, missing marks.

Shared by the list entry and its lines; a value that does not read is kept as it is, so that
validation reports it rather than the reader guessing.
"""

from __future__ import annotations

import math

#: Cell values read as "no value" (a NaN number, which validation reports).
MISSING_MARKS = frozenset({"", "NA", "N/A", "/", "-", "NAN"})


def number(value: object) -> object:
    """A float where ``value`` reads as one, NaN where it is a missing mark, else ``value``."""
    if value is None or (isinstance(value, str) and value.strip().upper() in MISSING_MARKS):
        return math.nan
    if isinstance(value, bool):
        return value
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value
