"""Persistence: the engine (:mod:`.engine`), the tables (:mod:`.models`, :mod:`.types`) and
the migrations that build them (:mod:`.migrate`, ``alembic/``). SQL itself lives in
:mod:`service.repositories`."""
