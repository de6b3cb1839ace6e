"""Benchmarks: generated planning instances and the ``bioplan bench plan`` runner."""
