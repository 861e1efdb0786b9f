"""Build hook: the wheel carries the migrations of ``alembic/`` as ``service/storage/migrations``.

``alembic/`` stays the one source of the migrations (the repository layout keeps it at the
top level, and its name is the library's, so it cannot be a package of its own). A plain
(non-editable) install puts ``service/`` in site-packages, away from the repository, so the
build copies the folder into the package; :func:`service.storage.migrate.migrations_dir` finds it
there, or in the repository for an editable install. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MIGRATIONS = Path(__file__).resolve().parent / "alembic"


class BuildWithMigrations(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # the repository's alembic/ is used in place
            return
        target = Path(self.build_lib) / "service" / "storage" / "migrations"
        shutil.copytree(
            MIGRATIONS,
            target,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )


setup(cmdclass={"build_py": BuildWithMigrations})
