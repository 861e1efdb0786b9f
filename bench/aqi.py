"""Benchmark of the AQI kernel (:func:`emission_list.aqi.evaluate_columns`); prints one JSON object.

    python -m bench.aqi --readings 1000000 [--repeats 7] [--seed 0] [--scalar-sample 2000]

Builds ``--readings`` rows of all 12 pollutant columns: each row draws a pollution level whose
AQI spans all six categories, each column an IAQI up to that level turned back into a
concentration on its table (readings to 0.1 µg/m³, CO to 0.01 mg/m³), ~0.5 % above the table's
top, ~2 % missing (NaN). Measures, in one run:

- ``kernel_s``: median time of ``evaluate_columns`` over all rows (HJ 633—2026 tables);
  ``ns_per_row``;
- ``floor_s``: median time of copying, with ``np.copyto`` into preallocated (already touched)
  arrays, exactly as many bytes as the kernel reads (the 12 input columns) and writes (every
  array of the returned table) — a memory-copy floor; ``ratio_to_floor`` = kernel_s / floor_s
  (goal <= 10, ``goal_met``);
- ``scalar_s_scaled``: the scalar reference (:mod:`emission_list.reference.aqi`) timed on
  ``--scalar-sample`` rows and scaled to all rows; ``speedup_vs_scalar``; and whether the
  kernel agreed with the reference on every sampled row (``sample_agrees_with_reference``).

Figures are measured, never adjusted: a missed goal is reported as missed.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from bench.timing import median_time
from emission_list.aqi import COLUMNS, POLLUTANTS, AqiTable, evaluate_columns
from emission_list.breakpoints import get_table
from emission_list.reference import aqi as reference

EDITION = "2026"
RATIO_GOAL = 10.0
NAN_FRACTION = 0.02
BEYOND_FRACTION = 0.005
#: Share of rows drawn in each AQI category I..VI.
CATEGORY_WEIGHTS = (0.22, 0.33, 0.2, 0.12, 0.08, 0.05)
_CATEGORY_EDGES = (0, 50, 100, 150, 200, 300, 500)


def synthetic_readings(rows: int, seed: int) -> dict[str, np.ndarray]:
    """Rows of all 12 columns [µg/m³; mg/m³ for CO] spanning every AQI category."""
    rng = np.random.default_rng(seed)
    table = get_table(EDITION)
    category = rng.choice(6, size=rows, p=CATEGORY_WEIGHTS)
    lo, hi = np.take(_CATEGORY_EDGES, category), np.take(_CATEGORY_EDGES, category + 1)
    level = rng.uniform(lo, hi)
    columns = {}
    for name in COLUMNS:
        bp = table.breakpoints(*name.split("_"))
        target = level * rng.uniform(0.15, 1.0, size=rows)
        conc = np.interp(target, bp.iaqi, bp.concentration)  # beyond the table: its top
        beyond = rng.random(rows) < BEYOND_FRACTION
        conc[beyond] = bp.concentration[-1] * rng.uniform(1.01, 1.3, size=int(beyond.sum()))
        conc = np.round(conc, 2 if name.startswith("co_") else 1)
        conc[rng.random(rows) < NAN_FRACTION] = np.nan
        columns[name] = conc
    return columns


def _copy_floor(columns: dict[str, np.ndarray], result: AqiTable, repeats: int):
    """Time copying the kernel's input and output bytes; returns (s, input bytes, output bytes)."""
    outputs = [
        *result.iaqi_by_column.values(),
        result.iaqi_by_pollutant,
        result.aqi,
        result.category,
        result.primary,
        result.exceeding,
        result.beyond_range,
        result.flagged,
        result.missing,
    ]
    inputs = list(columns.values())
    sources = [np.ascontiguousarray(a).copy() for a in inputs + outputs]
    targets = [np.empty_like(s) for s in sources]
    for s, t in zip(sources, targets, strict=True):  # touch every page before timing
        np.copyto(t, s)

    def copy_all() -> None:
        for s, t in zip(sources, targets, strict=True):
            np.copyto(t, s)

    seconds = median_time(copy_all, repeats)
    return seconds, sum(a.nbytes for a in inputs), sum(a.nbytes for a in outputs)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def _scalar(columns: dict[str, np.ndarray], result: AqiTable, sample: int, seed: int):
    """Per-row time of the scalar reference on a sample, and whether it agreed on every row."""
    rng = np.random.default_rng(seed + 1)
    rows = rng.choice(len(result.aqi), size=min(sample, len(result.aqi)), replace=False)
    records = [{name: float(v[r]) for name, v in columns.items()} for r in rows.tolist()]
    start = time.perf_counter()
    answers = [reference.aqi_row(record, EDITION) for record in records]
    per_row = (time.perf_counter() - start) / max(len(records), 1)
    agrees = all(
        _same(answer["aqi"], float(result.aqi[r]))
        and all(_same(answer["iaqi"][p], float(result.iaqi_by_pollutant[r, j]))
                for j, p in enumerate(POLLUTANTS))
        and answer["primary"] == {p for j, p in enumerate(POLLUTANTS) if result.primary[r, j]}
        for answer, r in zip(answers, rows.tolist(), strict=True)
    )  # fmt: skip
    return per_row, len(records), agrees


def run(readings: int, repeats: int, seed: int, scalar_sample: int) -> dict[str, object]:
    columns = synthetic_readings(readings, seed)
    result = evaluate_columns(columns, EDITION)  # warm up: tables and lookup tables built
    kernel_s = median_time(lambda: evaluate_columns(columns, EDITION), repeats)
    floor_s, in_bytes, out_bytes = _copy_floor(columns, result, repeats)
    per_row, sampled, agrees = _scalar(columns, result, scalar_sample, seed)
    scalar_scaled = per_row * readings
    ratio = kernel_s / floor_s
    counts = np.bincount(result.category, minlength=7)
    return {
        "benchmark": "aqi",
        "edition": get_table(EDITION).name,
        "rows": readings,
        "columns": len(columns),
        "repeats": repeats,
        "seed": seed,
        "nan_fraction": float(np.mean([np.isnan(v).mean() for v in columns.values()])),
        "category_counts": {str(c): int(counts[c]) for c in range(7)},
        "kernel_s": kernel_s,
        "ns_per_row": kernel_s / readings * 1e9,
        "floor_s": floor_s,
        "floor_input_bytes": in_bytes,
        "floor_output_bytes": out_bytes,
        "ratio_to_floor": ratio,
        "goal": {"ratio_to_floor_max": RATIO_GOAL},
        "goal_met": bool(ratio <= RATIO_GOAL),
        "scalar_sample": sampled,
        "scalar_s_per_row": per_row,
        "scalar_s_scaled": scalar_scaled,
        "speedup_vs_scalar": scalar_scaled / kernel_s,
        "sample_agrees_with_reference": agrees,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.aqi", description=__doc__)
    parser.add_argument("--readings", type=int, default=1_000_000, help="rows")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scalar-sample", type=int, default=2_000)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.readings, args.repeats, args.seed, args.scalar_sample), indent=2))


if __name__ == "__main__":
    main()
