"""Benchmarks of the offline stack: `python -m bench` (or `make bench`), `--quick` for a smoke test."""
