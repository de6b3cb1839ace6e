"""Helpers shared by the test tiers."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip when an external dependency (Chromium, PostgreSQL) is missing; fail under ``CI=true``.

    CI installs every dependency itself, so a missing one there is a broken pipeline, not a reason
    to silently run fewer tests.
    """
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required, not skipped)")
    pytest.skip(reason)
