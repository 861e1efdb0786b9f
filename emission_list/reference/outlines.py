"""Plain scalar reference of the Douglas–Peucker simplification, one position at a time.

Written from the algorithm's statement with Python floats and recursion, independently of
:func:`emission_list.outlines.simplify_ring`: keep the first and last positions; find the
position between them farthest from the segment joining them (the first such, on ties);
when it is farther than the tolerance keep it and do the same on both sides. Distances are
compared squared, so no square root's last bit can differ between implementations.
"""

from __future__ import annotations


def squared_distance(
    p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]
) -> float:
    """Squared distance from ``p`` to the segment ``a``–``b`` (to ``a`` when ``a == b``)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    qx, qy = p[0] - a[0], p[1] - a[1]
    if length2 == 0:
        return qx * qx + qy * qy
    t = min(1.0, max(0.0, (qx * dx + qy * dy) / length2))
    ex, ey = qx - t * dx, qy - t * dy
    return ex * ex + ey * ey


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """The positions of ``points`` Douglas–Peucker keeps at ``tolerance``."""
    if len(points) <= 2:
        return list(points)
    kept = [False] * len(points)
    kept[0] = kept[-1] = True

    def visit(first: int, last: int) -> None:
        farthest, at = -1.0, -1
        for i in range(first + 1, last):
            d = squared_distance(points[i], points[first], points[last])
            if d > farthest:
                farthest, at = d, i
        if at >= 0 and farthest > tolerance * tolerance:
            kept[at] = True
            visit(first, at)
            visit(at, last)

    visit(0, len(points) - 1)
    return [p for p, keep in zip(points, kept, strict=True) if keep]
