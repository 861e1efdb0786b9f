"""Who may send: the registered loggers, looked up by MN (in memory, on the hot path).

The lead's implementation reads the logger registry of the database into memory; tests and
the benchmark use :class:`DictDirectory`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


def password_hash(password: str) -> bytes:
    """What a registration keeps of a logger's password (HJ 212 sends it in clear)."""
    return hashlib.sha256(password.encode("utf-8")).digest()


@dataclass(frozen=True)
class Registration:
    mn: str
    kind: str  # "station" | "meter" | "cems"
    owner: str  # station id or enterprise id
    password_sha256: bytes
    units: Mapping[str, str] = field(default_factory=dict)  # code -> unit; empty: Table B.2's
    timezone: str = ""  # of its DataTime; "" = HAZE_GATEWAY_TIMEZONE

    def password_matches(self, pw: str | None) -> bool:
        if pw is None:
            return False
        return hmac.compare_digest(password_hash(pw), self.password_sha256)


class LoggerDirectory(Protocol):
    def lookup(self, mn: str) -> Registration | None:
        """The registration of ``mn``, None when unknown (sync: in memory)."""
        ...


class DictDirectory:
    """A directory held in a dict (tests, benchmark, ``haze hj212`` tools)."""

    def __init__(self, registrations: Iterable[Registration] = ()) -> None:
        self._by_mn = {r.mn: r for r in registrations}

    def add(self, registration: Registration) -> None:
        self._by_mn[registration.mn] = registration

    def lookup(self, mn: str) -> Registration | None:
        return self._by_mn.get(mn)
