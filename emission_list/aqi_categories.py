"""AQI categories of HJ 633: numbers, colours and the standard health advice, held as data.

The six categories, their colours and texts live in ``data/aqi_categories.json`` (Simplified
Chinese and English); :func:`category_of` maps AQI values to category numbers 1..6.

References
----------
HJ 633-2012 §4 and Table 2 (unchanged in HJ 633—2026); colours as in its Appendix A.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from emission_list.i18n import Text


@dataclass(frozen=True)
class Category:
    """An AQI category (HJ 633-2012 Table 2) with its colour and standard health advice."""

    number: int
    roman: str
    aqi_min: int
    aqi_max: int | None
    name: Text
    colour: Text
    hex: str
    rgb: tuple[int, int, int]
    health_effects: Text
    advice: Text


@cache
def _categories() -> tuple[Category, ...]:
    path = resources.files("emission_list.data").joinpath("aqi_categories.json")
    raw = json.loads(path.read_text(encoding="utf-8"))["categories"]
    return tuple(Category(**{**c, "rgb": tuple(c["rgb"])}) for c in raw)


#: The six categories, I (Excellent, 0-50) to VI (Severely polluted, > 300).
CATEGORIES: tuple[Category, ...] = _categories()

#: Category number by integer AQI 0..500; index 501 (no AQI) gives 0.
CATEGORY_BY_AQI = np.zeros(502, dtype=np.int8)
for _c in CATEGORIES:
    CATEGORY_BY_AQI[_c.aqi_min : (_c.aqi_max if _c.aqi_max is not None else 500) + 1] = _c.number
CATEGORY_BY_AQI.flags.writeable = False


def category_of(aqi: np.ndarray | float) -> np.ndarray:
    """Category number 1..6 of AQI values (0 where the AQI is NaN).

    Parameters
    ----------
    aqi : array_like
        AQI, integers 0..500 as HJ 633 reports them (a non-integer is rounded up first).

    Returns
    -------
    numpy.ndarray
        int8 of the same shape.

    References
    ----------
    HJ 633-2012 Table 2.
    """
    a = np.ceil(np.asarray(aqi, dtype=np.float64))
    np.clip(a, 0, 500, out=a)
    np.fmin(a, 501, out=a)  # NaN -> 501, whose category is 0
    return CATEGORY_BY_AQI.take(a.astype(np.intp))
