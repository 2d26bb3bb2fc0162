"""Benchmark of the customer read paths (see bench/run.py and docs/performance.md)."""
