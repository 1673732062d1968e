"""Demo datasets and their generators (used by the README, the tests and the benchmark)."""
