"""Benchmark of the list evaluator; prints one JSON object.

    python -m bench.evaluator --enterprises 1000000 [--repeats 7] [--seed 0]

Measures, in one run on one synthetic list:

- ``full_s``: median time of a full evaluation (every enterprise and every region total);
- ``floor_s``: median time of copying, with ``np.copyto`` into preallocated arrays, exactly the
  bytes a full evaluation reads (policy keys, baselines, region counts and states) and writes
  (states, keys, production cuts, reductions, region totals) — a memory-copy floor;
- ``ratio_to_floor`` = full_s / floor_s (goal <= 3);
- ``scalar_s_scaled``: the scalar reference (:mod:`emission_list.reference.evaluator`) timed on
  a sample of enterprises and scaled to the whole list; ``speedup_vs_scalar`` (goal >= 100);
- ``incremental``: re-evaluation after one region changes level — a city, a district and one
  subdistrict — with the rows each touched and ns per touched row (goal: proportional to rows
  touched, so ns per touched row stays near the full evaluation's ns per enterprise), and
  ``incremental_overhead_s``, the fixed cost of an update that changes nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from bench.timing import median_time
from emission_list.catalog import default_catalog
from emission_list.compiler import compile_columns
from emission_list.evaluator import Evaluator
from emission_list.levels import Level, Response
from emission_list.reference import evaluator as reference
from emission_list.regions import decode_state, state_code
from emission_list.synthetic import synthetic_list

RATIO_GOAL = 3.0
SPEEDUP_GOAL = 100.0


def _copy_floor(evaluator: Evaluator, repeats: int) -> tuple[float, int]:
    """Time copying the same input and output bytes as a full evaluation; returns (s, bytes)."""
    compiled = evaluator.compiled
    arrays = [
        compiled.policy_key,
        compiled.baseline,
        compiled.region_counts,
        evaluator.own_states,
        evaluator.region_state,
        evaluator.state,
        evaluator.key,
        evaluator.production_cut,
        evaluator.reductions,
        evaluator._region_required,
    ]
    sources = [np.ascontiguousarray(a).copy() for a in arrays]
    targets = [np.empty_like(s) for s in sources]
    for s, t in zip(sources, targets, strict=True):  # fault the pages in, as the evaluator's are
        np.copyto(t, s)

    def copy_all() -> None:
        for s, t in zip(sources, targets, strict=True):
            np.copyto(t, s)

    return median_time(copy_all, repeats), sum(s.nbytes for s in sources)


def _random_states(tree_len: int, region_ids: list[int], rng: np.random.Generator) -> np.ndarray:
    own = np.zeros(tree_len, dtype=np.int8)
    codes = [state_code(lvl, Response.FULL) for lvl in (Level.YELLOW, Level.ORANGE, Level.RED)]
    own[region_ids] = rng.choice(codes, size=len(region_ids))
    return own


def _time_incremental(evaluator: Evaluator, region: int, repeats: int) -> dict[str, object]:
    """Toggle one region between yellow (also on its ancestors) and red; time each update."""
    tree = evaluator.compiled.tree
    yellow, red = state_code(Level.YELLOW, Response.FULL), state_code(Level.RED, Response.FULL)
    base = evaluator.own_states.copy()
    base[[tree.index[a] for a in tree.ancestors(tree.ids[region])]] = 0
    base[region] = yellow
    raised = base.copy()
    raised[region] = red
    evaluator.update(base)
    times, touched, changed = [], 0, 0
    for i in range(repeats * 2):
        start = time.perf_counter()
        update = evaluator.update(raised if i % 2 == 0 else base)
        times.append(time.perf_counter() - start)
        touched, changed = max(touched, update.touched_rows), max(changed, len(update.changed_rows))
    seconds = statistics.median(times)
    return {
        "region": tree.ids[region],
        "touched": touched,
        "changed": changed,
        "seconds": seconds,
        "ns_per_touched": seconds / max(touched, 1) * 1e9,
    }


def _scalar_sample_time(synthetic, catalog, tree, own, sample: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(synthetic), size=min(sample, len(synthetic)), replace=False)
    entries = synthetic.entries(rows)
    parents = {
        r: (tree.ids[p] if p >= 0 else None)
        for r, p in zip(tree.ids, tree.parent.tolist(), strict=True)
    }
    own_map = {tree.ids[i]: decode_state(int(c)) for i, c in enumerate(own) if c}
    start = time.perf_counter()
    results = reference.evaluate_list(entries, catalog, parents, own_map)
    reference.region_totals(entries, results, parents, own_map)
    return (time.perf_counter() - start) / len(entries)


def run(enterprises: int, repeats: int, seed: int, scalar_sample: int) -> dict[str, object]:
    catalog = default_catalog()
    start = time.perf_counter()
    synthetic = synthetic_list(enterprises, seed=seed)
    generate_s = time.perf_counter() - start
    tree = synthetic.region_tree()
    start = time.perf_counter()
    compiled = compile_columns(synthetic.to_list_columns(), catalog, tree)
    compile_s = time.perf_counter() - start

    rng = np.random.default_rng(seed)
    districts = np.flatnonzero(tree.depth == 2)
    own = _random_states(len(tree), districts.tolist(), rng)
    evaluator = Evaluator(compiled)
    evaluator.evaluate(own)  # warm up: page in every buffer
    full_s = median_time(lambda: evaluator.evaluate(own), repeats)
    floor_s, floor_bytes = _copy_floor(evaluator, repeats)
    evaluator.region_report()
    report_s = median_time(evaluator.region_report, repeats)

    scalar_per = _scalar_sample_time(synthetic, catalog, tree, own, scalar_sample, seed)
    scalar_scaled = scalar_per * len(compiled)

    leaves = np.flatnonzero(tree.is_leaf & (compiled.region_counts > 0))
    city = int(tree.parent[districts[0]])
    incremental = [
        _time_incremental(evaluator, region, repeats)
        for region in (city, int(districts[len(districts) // 2]), int(leaves[len(leaves) // 3]))
    ]
    unchanged = evaluator.own_states.copy()
    overhead_s = median_time(lambda: evaluator.update(unchanged), repeats)
    ratio = full_s / floor_s
    speedup = scalar_scaled / full_s
    return {
        "benchmark": "evaluator",
        "enterprises": len(compiled),
        "regions": len(tree),
        "policies": compiled.table.n_policies,
        "repeats": repeats,
        "generate_s": round(generate_s, 4),
        "compile_s": round(compile_s, 4),
        "full_s": full_s,
        "ns_per_enterprise": full_s / len(compiled) * 1e9,
        "floor_s": floor_s,
        "floor_bytes": floor_bytes,
        "ratio_to_floor": ratio,
        "region_report_s": report_s,
        "scalar_sample": min(scalar_sample, len(compiled)),
        "scalar_s_scaled": scalar_scaled,
        "speedup_vs_scalar": speedup,
        "incremental": incremental,
        "incremental_overhead_s": overhead_s,
        "goals": {
            "ratio_to_floor_max": RATIO_GOAL,
            "ratio_to_floor_met": ratio <= RATIO_GOAL,
            "speedup_vs_scalar_min": SPEEDUP_GOAL,
            "speedup_vs_scalar_met": speedup >= SPEEDUP_GOAL,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.evaluator", description=__doc__)
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scalar-sample", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.enterprises, args.repeats, args.seed, args.scalar_sample), indent=2))


if __name__ == "__main__":
    main()
