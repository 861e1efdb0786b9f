"""Storage: the engine, the tables, migrations and the repositories (all SQL)."""
