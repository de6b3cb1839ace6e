"""``bioplan dashboard``: the command line it runs and its argument checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bioplan.cli import main
from bioplan.cli.dashboard_cmds import streamlit_command
from bioplan.paths import dashboards_dir


def test_app_is_found() -> None:
    assert (dashboards_dir() / "app.py").is_file()
    assert (dashboards_dir() / "views" / "plan.py").is_file()


def test_default_binds_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(subprocess, "call", lambda cmd: seen.append(cmd) or 0)
    assert main(["dashboard"]) == 0
    (cmd,) = seen
    assert cmd[1:4] == ["-m", "streamlit", "run"]
    assert Path(cmd[4]) == dashboards_dir() / "app.py"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.port") + 1] == "8501"
    assert cmd[cmd.index("--server.headless") + 1] == "true"


def test_port_and_host_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(subprocess, "call", lambda cmd: seen.append(cmd) or 3)
    assert main(["dashboard", "--port", "9123", "--host", "0.0.0.0"]) == 3  # streamlit's code
    assert seen[0][seen[0].index("--server.port") + 1] == "9123"
    assert seen[0][seen[0].index("--server.address") + 1] == "0.0.0.0"


def test_bad_port_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_command_helper() -> None:
    cmd = streamlit_command(Path("x.py"), host="h", port=1)
    assert "--browser.gatherUsageStats" in cmd
