"""The list search done in Python over the sample list: what every search test expects.

``expected_ids(where)`` takes the search fields as the console's form sends them (``name``,
``credit_code``, ``region``, ``industry``, ``grade``) and returns the matching credit codes
in order. A name matches as a substring of the Chinese or the English name, letters A-Z in
any case; a credit code as a prefix; a region stands for itself and every region under it
(from the sample's parent links, not the service's tree).
"""

from __future__ import annotations

from collections.abc import Mapping

from emission_list.entries import Enterprise
from emission_list.samples import kundulun_list, kundulun_regions

SAMPLE = kundulun_list()
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def subtree(region: str) -> set[str]:
    """The region and every region under it."""
    parent = {r.region_id: r.parent for r in kundulun_regions()}

    def under(r: str | None) -> bool:
        while r is not None:
            if r == region:
                return True
            r = parent[r]
        return False

    return {r for r in parent if under(r)}


def expected_ids(where: Mapping[str, str]) -> list[str]:
    name = where.get("name", "").strip().translate(_ASCII_LOWER)
    code = where.get("credit_code", "").strip().upper()
    inside = subtree(where["region"]) if where.get("region") else None

    def keeps(e: Enterprise) -> bool:
        named = any(name in n.translate(_ASCII_LOWER) for n in (e.name, e.name_en))
        return (
            named
            and e.enterprise_id.startswith(code)
            and (inside is None or e.region in inside)
            and (where.get("industry") or e.industry) == e.industry
            and (where.get("grade") or e.grade) == e.grade
        )

    return sorted(e.enterprise_id for e in SAMPLE.entries if keeps(e))
