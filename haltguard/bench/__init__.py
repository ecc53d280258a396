"""Benchmarks behind `haltguard bench`."""
