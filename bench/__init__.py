"""Benchmarks: each prints its figures as one JSON line against a baseline measured in the same run."""
