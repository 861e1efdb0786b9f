"""Placeholder of the gateway's directory interface (replaced by the gateway branch)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Registration:
    mn: str
    kind: str
    owner: str
    password_sha256: bytes
    units: Mapping[str, str] = field(default_factory=dict)
    timezone: str = ""

    def password_matches(self, pw: str | None) -> bool:
        digest = hashlib.sha256((pw or "").encode()).digest()
        return hmac.compare_digest(digest, self.password_sha256)


class LoggerDirectory(Protocol):
    def lookup(self, mn: str) -> Registration | None: ...
