"""Plain scalar reference implementations, for tests and benchmarks."""
