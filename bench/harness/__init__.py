"""Benchmark harness: case catalogue, timing, worker protocol, runner and report."""
