"""Real servers for the tests and the benchmarks: PostgreSQL 15, the Tansu broker, ports."""
