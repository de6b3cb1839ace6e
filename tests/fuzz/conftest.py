"""Hypothesis settings of the fuzz suite: a fixed example budget per test (the suite runs at least
500 generated cases per CI run, about a minute), no per-example deadline (the machine may be
shared), and derandomised under ``CI=true`` so a CI failure reproduces locally."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from tests.support import IN_CI

settings.register_profile(
    "bioplan-fuzz",
    deadline=None,
    derandomize=IN_CI,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
settings.load_profile("bioplan-fuzz")
