"""Shared AppTest helpers: open a dashboard page with given session state, wait for a solve."""

from __future__ import annotations

import time
from typing import Any

from streamlit.testing.v1 import AppTest

APP = "../../dashboards/app.py"
"""The dashboard entry script, relative to this folder (AppTest resolves it from the caller)."""


def open_page(page: str, *, timeout_s: float = 30, **state: Any) -> AppTest:
    """Run the app with ``state`` in its session, switch to ``views/<page>.py``; no exception."""
    at = AppTest.from_file(APP, default_timeout=timeout_s)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def wait_for_solve(at: AppTest, timeout_s: float = 60) -> None:
    """Re-run the page until the solve job is gone (finished, failed) or ``timeout_s`` [s] pass."""
    deadline = time.monotonic() + timeout_s
    while at.session_state["job"] is not None and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
        assert not at.exception, at.exception
    assert at.session_state["job"] is None, f"solve did not finish in {timeout_s} s"
