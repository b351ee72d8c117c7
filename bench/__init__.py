"""Benchmarks that print ratios measured in one run (our path / the floor of the same stack)."""
