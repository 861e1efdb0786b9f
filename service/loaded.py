"""Exception classes of optional drivers, looked up only in modules already loaded.

A process on the embedded default (SQLite, the in-process bus) never imports asyncpg or
aiokafka: their memory is saved, and no exception of a module that was never loaded can be
raised, so a type check against classes not loaded has nothing to match. PostgreSQL's
dialect imports asyncpg when the engine is made and the Kafka bus imports aiokafka, so a
process using either finds their classes here.
"""

from __future__ import annotations

import sys


def loaded_classes(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """The classes ``names`` of ``module`` if it is loaded, else none."""
    found = sys.modules.get(module)
    return () if found is None else tuple(getattr(found, name) for name in names)
