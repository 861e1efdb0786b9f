"""The region tree (province > city > district > subdistrict/town) and warning reach.

Regions are held in depth-first preorder (children sorted by id), so the subtree of region
``i`` is the contiguous index range ``[i, subtree_end[i])``. The evaluator sorts enterprises
by region in the same order, which turns "every enterprise under a region" into one slice.

Warning states are packed into one small integer per region, ``state_code(level, response)``,
ordered so that the maximum over a region and its ancestors is the state in force: the
highest level wins and, at equal level, full > o3 > advisory.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from emission_list.levels import Level, Response

_RESPONSE_RANK: dict[Response, int] = {Response.ADVISORY: 0, Response.O3: 1, Response.FULL: 2}
_RANK_RESPONSE: tuple[Response, ...] = (Response.ADVISORY, Response.O3, Response.FULL)

#: Number of distinct state codes (none + 3 levels x 3 responses).
N_STATES = 10


def state_code(level: Level | int, response: Response | str | None = Response.FULL) -> int:
    """Pack a warning level and its response into one orderable code (0 = no warning)."""
    level = Level(level)
    if level is Level.NONE:
        return 0
    return int(level) * 3 + _RESPONSE_RANK[Response(response or Response.FULL)] - 2


def decode_state(code: int) -> tuple[Level, Response | None]:
    """Inverse of :func:`state_code`."""
    code = int(code)
    if code == 0:
        return Level.NONE, None
    level, rank = divmod(code + 2, 3)
    return Level(level), _RANK_RESPONSE[rank]


#: Level of each state code, as an array for vectorised decoding.
STATE_LEVEL = np.array([decode_state(c)[0] for c in range(N_STATES)], dtype=np.int8)


class RegionTree:
    """An immutable forest of regions in preorder.

    Parameters
    ----------
    regions
        ``(region_id, parent_id)`` pairs in any order; ``parent_id`` is None for a root.

    Raises
    ------
    ValueError
        On a duplicate id, an unknown parent or a cycle.
    """

    def __init__(self, regions: Iterable[tuple[str, str | None]]) -> None:
        parent_of: dict[str, str | None] = {}
        for region_id, parent in regions:
            if region_id in parent_of:
                raise ValueError(f"duplicate region {region_id!r}")
            parent_of[region_id] = parent
        children: dict[str | None, list[str]] = {}
        for region_id, parent in parent_of.items():
            if parent is not None and parent not in parent_of:
                raise ValueError(f"region {region_id!r} has unknown parent {parent!r}")
            children.setdefault(parent, []).append(region_id)

        order: list[str] = []
        depth: list[int] = []
        stack = [(root, 0) for root in sorted(children.get(None, ()), reverse=True)]
        while stack:
            region_id, d = stack.pop()
            order.append(region_id)
            depth.append(d)
            stack.extend((c, d + 1) for c in sorted(children.get(region_id, ()), reverse=True))
        if len(order) != len(parent_of):
            cyclic = sorted(set(parent_of) - set(order))
            raise ValueError(f"regions in a cycle: {cyclic}")

        self.ids: tuple[str, ...] = tuple(order)
        self.index: dict[str, int] = {r: i for i, r in enumerate(order)}
        self.parent = np.array(
            [-1 if parent_of[r] is None else self.index[parent_of[r]] for r in order],
            dtype=np.int32,
        )
        self.depth = np.array(depth, dtype=np.int32)
        # In preorder a subtree ends where the next region at the same or a lower depth starts.
        end = np.full(len(order), len(order), dtype=np.int32)
        open_at_depth: list[int] = []
        for i, d in enumerate(depth):
            while open_at_depth and depth[open_at_depth[-1]] >= d:
                end[open_at_depth.pop()] = i
            open_at_depth.append(i)
        self.subtree_end = end
        self.is_leaf = (end - np.arange(len(order), dtype=np.int32)) == 1
        self._by_depth = [
            np.flatnonzero(self.depth == d) for d in range(int(max(depth, default=-1)) + 1)
        ]

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, region_id: object) -> bool:
        return region_id in self.index

    @property
    def leaves(self) -> tuple[str, ...]:
        return tuple(r for r, leaf in zip(self.ids, self.is_leaf, strict=True) if leaf)

    def effective_states(self, own: np.ndarray) -> np.ndarray:
        """Highest state code of each region and its ancestors.

        Parameters
        ----------
        own
            State codes in preorder, shape ``(len(tree),)``.

        Returns
        -------
        numpy.ndarray
            Effective state codes, same shape and dtype; one vector step per tree depth.
        """
        effective = np.array(own, copy=True)
        for nodes in self._by_depth[1:]:
            effective[nodes] = np.maximum(effective[nodes], effective[self.parent[nodes]])
        return effective

    def subtree_sums(self, direct: np.ndarray) -> np.ndarray:
        """Sum per-region values (preorder, any trailing shape) over each region's subtree.

        Children are added into parents one depth at a time, deepest first, so no total is
        the difference of two large sums.
        """
        totals = np.array(direct, dtype=np.float64, copy=True)
        for nodes in reversed(self._by_depth[1:]):
            np.add.at(totals, self.parent[nodes], totals[nodes])
        return totals

    def ancestors(self, region_id: str) -> list[str]:
        """Ancestors of a region, nearest first, excluding the region itself."""
        out = []
        i = int(self.parent[self.index[region_id]])
        while i >= 0:
            out.append(self.ids[i])
            i = int(self.parent[i])
        return out

    def subtree_slice(self, region_id: str) -> slice:
        """Preorder index range of a region and everything under it."""
        i = self.index[region_id]
        return slice(i, int(self.subtree_end[i]))

    def subtree(self, region_id: str) -> list[str]:
        """A region and every region under it, in preorder."""
        return list(self.ids[self.subtree_slice(region_id)])

    def common_ancestor(self, region_ids: Iterable[str]) -> str | None:
        """Deepest region that is (or is an ancestor of) every given region; None if disjoint."""
        common: list[str] | None = None
        for region_id in region_ids:
            chain = [region_id, *self.ancestors(region_id)][::-1]
            if common is None:
                common = chain
            else:
                n = 0
                while n < min(len(common), len(chain)) and common[n] == chain[n]:
                    n += 1
                common = common[:n]
        return common[-1] if common else None
