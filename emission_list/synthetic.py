"""Synthetic emission-reduction lists of any size, for benchmarks and property tests.

:func:`synthetic_list` draws, in a handful of vectorised steps, a list shaped like that of a
northern industrial city: many small VOC users (coating, printing) and brick works, few
steelworks; grades as the industry uses them, with some enterprises that never applied and
so take their industry's lowest grade; about 3 % guaranteed supply (all district heating,
half the power plants, a few others); log-normal baselines [kg/day] per industry (zero for
pollutants an industry does not emit); about 0.5 % one-plant-one-policy overrides; valid,
distinct credit codes registered mostly in the enterprise's district. The result is columnar
(:class:`SyntheticList`); building :class:`~emission_list.entries.Enterprise` objects is
left to :meth:`SyntheticList.entries`. The same ``n`` and seed always give the same list.

Enterprises and regions are invented: region ids start with ``99`` (no such province).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from emission_list.catalog import GRADES, Action, Catalog, default_catalog
from emission_list.compiler import ListColumns
from emission_list.credit_code import make_codes
from emission_list.entries import Enterprise, MeasureOverride
from emission_list.levels import LIST_POLLUTANTS
from emission_list.regions import RegionTree
from emission_list.revisions import Revision

__all__ = [
    "DEFAULT_MIX",
    "GRADE_WEIGHTS",
    "IndustryProfile",
    "SyntheticList",
    "synthetic_list",
    "synthetic_regions",
]


@dataclass(frozen=True)
class IndustryProfile:
    """How an industry appears in a synthetic list.

    Attributes
    ----------
    weight
        Relative share of enterprises (the weights are normalised over the mix).
    baseline
        Median daily emissions of SO2, NOx, PM, VOCs [kg/day]; 0 where it emits none.
    sigma
        Spread of the log-normal baselines (natural log).
    guaranteed
        Share of its enterprises that are guaranteed supply (保障类).
    """

    weight: float
    baseline: tuple[float, float, float, float]
    sigma: float = 1.0
    guaranteed: float = 0.0


#: Default mix, loosely a northern industrial city of the Hohhot-Baotou-Ordos belt.
DEFAULT_MIX: Mapping[str, IndustryProfile] = {
    "steel": IndustryProfile(0.002, (2500, 6000, 2000, 900), 1.0),
    "coking": IndustryProfile(0.002, (500, 1800, 800, 1500), 0.8),
    "ferroalloy": IndustryProfile(0.006, (180, 160, 320, 6), 0.8),
    "carbon": IndustryProfile(0.004, (180, 130, 90, 250), 0.8),
    "rare_earth": IndustryProfile(0.006, (120, 70, 40, 90), 0.9),
    "silicon_pv": IndustryProfile(0.008, (60, 90, 40, 20), 1.2),
    "casting": IndustryProfile(0.035, (15, 30, 70, 60), 0.9),
    "equipment": IndustryProfile(0.07, (2, 8, 20, 80), 1.0),
    "power": IndustryProfile(0.003, (700, 1100, 170, 25), 0.8, guaranteed=0.5),
    "heating": IndustryProfile(0.02, (120, 250, 35, 5), 0.8, guaranteed=1.0),
    "cement": IndustryProfile(0.005, (80, 500, 120, 10), 1.2),
    "lime": IndustryProfile(0.008, (70, 280, 120, 0), 0.8),
    "brick": IndustryProfile(0.08, (100, 45, 40, 2), 0.7),
    "coating": IndustryProfile(0.22, (0, 1, 4, 35), 1.0),
    "printing": IndustryProfile(0.14, (0, 0, 0, 25), 1.0),
    "chemicals": IndustryProfile(0.05, (30, 40, 8, 120), 1.1),
    "other": IndustryProfile(0.331, (2, 6, 10, 8), 1.3, guaranteed=0.02),
}

#: Relative frequency of each grade among enterprises that applied, before restricting to
#: the grades an industry uses.
GRADE_WEIGHTS: Mapping[str, float] = {
    "A+": 0.01, "A": 0.06, "leading": 0.03, "B": 0.32, "B-": 0.06, "C": 0.34, "D": 0.18,
}  # fmt: skip
#: Share of enterprises that never applied for grading (they take the lowest grade).
NEVER_APPLIED = 0.15
#: Share of enterprises (not guaranteed supply) with their own per-level overrides.
OVERRIDE_SHARE = 0.005
#: Share registered with the city's authority rather than their district's.
CITY_REGISTERED = 0.05
#: Enterprises per leaf region aimed at when the tree is sized from ``n``.
PER_LEAF = 500

_OWN_CUT = Action(
    "own.red_line_stop",
    {"zh-CN": "红色预警期间停运一条生产线", "en": "At red, stop one production line"},
    ("so2", "nox", "pm", "vocs"),
)
#: The overrides drawn for the enterprises that have one (each picks one at random).
OVERRIDE_PATTERNS: tuple[Mapping[str, MeasureOverride], ...] = (
    {"red": MeasureOverride(production_cut=1.0)},
    {"orange": MeasureOverride(production_cut=0.5), "red": MeasureOverride(production_cut=0.7)},
    {
        "yellow": MeasureOverride(fractions={"vocs": 0.5}),
        "orange": MeasureOverride(fractions={"vocs": 0.6}),
        "red": MeasureOverride(fractions={"vocs": 0.8}),
    },
    {"red": MeasureOverride(production_cut=0.4, actions=(_OWN_CUT,))},
)


def synthetic_regions(
    n_districts: int = 100,
    subdistricts_per_district: int = 20,
    districts_per_city: int = 10,
) -> list[tuple[str, str | None]]:
    """An invented region tree: one province, its cities, districts and subdistricts.

    Ids look like division codes under the non-existent province ``990000``: city ``99CC00``,
    district ``99CCDD``, subdistrict ``99CCDDSSS`` (numbered from 01 and 001).

    Parameters
    ----------
    n_districts
        Number of districts, spread over ``ceil(n_districts / districts_per_city)`` cities.
    subdistricts_per_district
        Leaves under each district.
    districts_per_city
        Districts per city (the last city may have fewer).

    Returns
    -------
    list of tuple
        ``(region_id, parent_id)`` pairs in preorder, the province's parent None.
    """
    if not (1 <= n_districts <= 99 * 99 and 1 <= districts_per_city <= 99):
        raise ValueError("need 1..9801 districts and 1..99 districts per city")
    if not 1 <= subdistricts_per_district <= 999:
        raise ValueError("need 1..999 subdistricts per district")
    out: list[tuple[str, str | None]] = [("990000", None)]
    n_cities = -(-n_districts // districts_per_city)
    if n_cities > 99:
        raise ValueError("more than 99 cities: raise districts_per_city")
    for c in range(1, n_cities + 1):
        city = f"99{c:02d}00"
        out.append((city, "990000"))
        for d in range(1, min(districts_per_city, n_districts - (c - 1) * districts_per_city) + 1):
            district = f"99{c:02d}{d:02d}"
            out.append((district, city))
            out.extend(
                (f"{district}{s:03d}", district) for s in range(1, subdistricts_per_district + 1)
            )
    return out


def _sized_regions(n: int) -> list[tuple[str, str | None]]:
    """A tree with about :data:`PER_LEAF` enterprises per leaf (at least one district of 20)."""
    n_districts = int(np.clip(round(n / (PER_LEAF * 20)), 1, 100))
    return synthetic_regions(n_districts, 20)


@dataclass(frozen=True, eq=False)
class SyntheticList:
    """A synthetic list as columns; categorical columns index into their label tuples.

    Attributes
    ----------
    enterprise_id
        ``(n,)`` ``<U18`` unified social credit codes, all valid and distinct.
    region
        ``(n,)`` int32 index into ``region_ids`` (the tree in preorder); always a leaf.
    region_ids, region_parents
        The region tree: ids in preorder and each one's parent (None for a root).
    industry
        ``(n,)`` int8 index into ``industries``.
    grade
        ``(n,)`` int8 index into ``grades`` (:data:`~emission_list.catalog.GRADES`).
    guaranteed_supply
        ``(n,)`` bool.
    baseline
        ``(n, 4)`` float64 daily emissions [kg/day], columns as ``LIST_POLLUTANTS``.
    override_rows
        Rows with their own overrides, ascending; ``overrides[i]`` belongs to
        ``override_rows[i]``.
    """

    enterprise_id: np.ndarray
    region: np.ndarray
    region_ids: tuple[str, ...]
    region_parents: tuple[str | None, ...]
    industry: np.ndarray
    industries: tuple[str, ...]
    grade: np.ndarray
    grades: tuple[str, ...]
    guaranteed_supply: np.ndarray
    baseline: np.ndarray
    override_rows: np.ndarray
    overrides: tuple[Mapping[str, MeasureOverride], ...]

    def __len__(self) -> int:
        return len(self.enterprise_id)

    def region_tree(self) -> RegionTree:
        return RegionTree(zip(self.region_ids, self.region_parents, strict=True))

    def region_codes(self) -> np.ndarray:
        """Region id of every row, ``(n,)`` str."""
        return np.asarray(self.region_ids, dtype=str)[self.region]

    def industry_codes(self) -> np.ndarray:
        """Industry code of every row, ``(n,)`` str."""
        return np.asarray(self.industries, dtype=str)[self.industry]

    def grade_codes(self) -> np.ndarray:
        """Grade of every row, ``(n,)`` str."""
        return np.asarray(self.grades, dtype=str)[self.grade]

    def entries(self, rows: np.ndarray | None = None) -> list[Enterprise]:
        """The list (or the given rows of it) as entries: one Python object per row."""
        own = dict(zip(self.override_rows.tolist(), self.overrides, strict=True))
        picked = np.arange(len(self)) if rows is None else np.asarray(rows)
        regions = np.asarray(self.region_ids, dtype=str)[self.region[picked]]
        industries = np.asarray(self.industries, dtype=str)[self.industry[picked]]
        grades = np.asarray(self.grades, dtype=str)[self.grade[picked]]
        return [
            Enterprise(
                enterprise_id=str(self.enterprise_id[i]),
                name=f"合成企业{i:07d}",
                name_en=f"Synthetic enterprise {i:07d}",
                region=str(regions[k]),
                industry=str(industries[k]),
                grade=str(grades[k]),
                guaranteed_supply=bool(self.guaranteed_supply[i]),
                baseline=tuple(self.baseline[i].tolist()),
                overrides=own.get(i, {}),
            )
            for k, i in enumerate(picked.tolist())
        ]

    def to_revision(
        self,
        number: int = 1,
        effective_from: datetime.date = datetime.date(2026, 10, 1),
        author: str = "synthetic",
    ) -> Revision:
        """The list as a published revision (entries sorted by id)."""
        note = f"Synthetic list of {len(self)} enterprises / 合成清单（{len(self)} 家企业）"
        return Revision(
            number, None, "published", effective_from, author, note, tuple(self.entries())
        )

    def to_list_columns(self) -> ListColumns:
        """The columns the compiler takes (:class:`emission_list.compiler.ListColumns`)."""
        return ListColumns(
            enterprise_id=self.enterprise_id,
            region=self.region_codes(),
            industry=self.industry_codes(),
            grade=self.grade_codes(),
            guaranteed_supply=self.guaranteed_supply,
            baseline=self.baseline,
            overrides=dict(zip(self.override_rows.tolist(), self.overrides, strict=True)),
        )


def _region_pairs(
    regions: Iterable[tuple[str, str | None]] | RegionTree,
) -> list[tuple[str, str | None]]:
    if isinstance(regions, RegionTree):
        return [
            (r, None if p < 0 else regions.ids[p])
            for r, p in zip(regions.ids, regions.parent.tolist(), strict=True)
        ]
    return list(regions)


def _division(region_id: str) -> str:
    """Six-digit division code of a leaf: its first six digits (a district), else 150203."""
    head = region_id[:6]
    return head if len(head) == 6 and head.isdigit() else "150203"


def synthetic_list(
    n: int,
    seed: int = 0,
    regions: Iterable[tuple[str, str | None]] | RegionTree | None = None,
    *,
    mix: Mapping[str, IndustryProfile] | None = None,
    catalog: Catalog | None = None,
) -> SyntheticList:
    """Draw a synthetic list of ``n`` enterprises.

    Parameters
    ----------
    n
        Number of enterprises (1e3 to 1e6 is the intended range; 0 is allowed).
    seed
        Seed of the only random generator used; the same arguments give the same list.
    regions
        ``(region_id, parent_id)`` pairs or a :class:`RegionTree`; enterprises go to its
        leaves. Default: :func:`synthetic_regions` sized to about :data:`PER_LEAF`
        enterprises per leaf (1e6 enterprises: 100 districts, 2,000 subdistricts).
    mix
        Industry profiles (default :data:`DEFAULT_MIX`); each code must be in the catalog.
    catalog
        Where industries' grades come from (default :func:`default_catalog`).

    Returns
    -------
    SyntheticList
        Columns; see :class:`SyntheticList`.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    rng = np.random.default_rng(seed)
    mix = DEFAULT_MIX if mix is None else mix
    catalog = catalog or default_catalog()
    unknown = set(mix) - set(catalog.industries)
    if unknown:
        raise ValueError(f"industries not in the catalog: {sorted(unknown)}")
    pairs = _region_pairs(_sized_regions(n) if regions is None else regions)
    tree = RegionTree(pairs)
    parent_of = dict(pairs)
    leaves = np.flatnonzero(tree.is_leaf)

    industries = tuple(mix)
    profiles = [mix[k] for k in industries]
    weights = np.array([p.weight for p in profiles], dtype=np.float64)
    industry = _draw(rng, weights / weights.sum(), n).astype(np.int8)

    # Grades: a cumulative table per industry over GRADES, restricted to the grades it uses.
    grade_p = np.zeros((len(industries), len(GRADES)))
    lowest = np.empty(len(industries), dtype=np.int8)
    for k, code in enumerate(industries):
        uses = catalog.industries[code].grades
        for g, grade in enumerate(GRADES):
            if grade in uses:
                grade_p[k, g] = GRADE_WEIGHTS.get(grade, 1.0 if len(uses) == 1 else 0.0)
        lowest[k] = GRADES.index(catalog.industries[code].lowest_grade)
        if not grade_p[k].any():
            grade_p[k, lowest[k]] = 1.0
    cumulative = np.cumsum(grade_p / grade_p.sum(axis=1, keepdims=True), axis=1)
    # From each industry's last possible grade on, the CDF is exactly 1 (no rounding spill
    # into a grade it does not use); the grade is the number of CDF steps at or below u.
    last = len(GRADES) - 1 - np.argmax(grade_p[:, ::-1] > 0, axis=1)
    cumulative[np.arange(len(GRADES)) >= last[:, None]] = 1.0
    u = rng.random(n)
    grade = (u[:, None] >= cumulative[industry]).sum(axis=1)
    never = rng.random(n) < NEVER_APPLIED
    grade = np.where(never, lowest[industry], grade).astype(np.int8)

    share = np.array([p.guaranteed for p in profiles])
    guaranteed = rng.random(n) < share[industry]

    # Baselines: a plant-size factor shared by the pollutants, plus a pollutant's own spread.
    median = np.array([p.baseline for p in profiles], dtype=np.float64)
    sigma = np.array([p.sigma for p in profiles])[industry, None]
    z = 0.8 * rng.standard_normal((n, 1)) + 0.6 * rng.standard_normal((n, len(LIST_POLLUTANTS)))
    baseline = np.round(median[industry] * np.exp(sigma * z), 1)

    # Leaves have uneven sizes (industrial parks hold many enterprises).
    leaf_weight = rng.lognormal(0.0, 0.8, len(leaves))
    region = leaves[_draw(rng, leaf_weight / leaf_weight.sum(), n)].astype(np.int32)

    eligible = np.flatnonzero(~guaranteed)
    chosen = rng.random(len(eligible)) < OVERRIDE_SHARE
    override_rows = eligible[chosen]
    pattern = rng.integers(0, len(OVERRIDE_PATTERNS), len(override_rows))
    overrides = tuple(OVERRIDE_PATTERNS[p] for p in pattern.tolist())

    enterprise_id = _codes(rng, tree, parent_of, leaves, region, n)
    return SyntheticList(
        enterprise_id=enterprise_id,
        region=region,
        region_ids=tree.ids,
        region_parents=tuple(parent_of[r] for r in tree.ids),
        industry=industry,
        industries=industries,
        grade=grade,
        grades=GRADES,
        guaranteed_supply=guaranteed,
        baseline=baseline,
        override_rows=override_rows.astype(np.int64),
        overrides=overrides,
    )


def _draw(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with probabilities ``p`` (inverse CDF)."""
    cdf = np.cumsum(p)
    return np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), len(p) - 1)


def _codes(
    rng: np.random.Generator,
    tree: RegionTree,
    parent_of: Mapping[str, str | None],
    leaves: np.ndarray,
    region: np.ndarray,
    n: int,
) -> np.ndarray:
    """Credit codes registered in each row's district, or (a few) in its city."""
    leaf_division = [_division(tree.ids[i]) for i in leaves.tolist()]
    city_division = []
    for i in leaves.tolist():
        district = parent_of[tree.ids[i]]
        city = parent_of.get(district) if district is not None else None
        city_division.append(_division(city) if city else _division(tree.ids[i]))
    labels = sorted(set(leaf_division) | set(city_division))
    code_of = {d: k for k, d in enumerate(labels)}
    leaf_pos = np.full(len(tree), -1, dtype=np.int64)
    leaf_pos[leaves] = np.arange(len(leaves))
    own = np.array([code_of[d] for d in leaf_division], dtype=np.int64)
    city = np.array([code_of[d] for d in city_division], dtype=np.int64)
    pos = leaf_pos[region]
    division = np.where(rng.random(n) < CITY_REGISTERED, city[pos], own[pos])
    out = np.empty(n, dtype="<U18")
    order = np.argsort(division, kind="stable")
    bounds = np.searchsorted(division[order], np.arange(len(labels) + 1))
    for k, label in enumerate(labels):
        rows = order[bounds[k] : bounds[k + 1]]
        if len(rows):
            out[rows] = make_codes(rng, len(rows), label)
    return out
