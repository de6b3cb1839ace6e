"""``bioplan dashboard``: the command line it runs and its argument checks."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import ClassVar

import pytest

from bioplan.cli import main
from bioplan.cli.dashboard_cmds import streamlit_command
from bioplan.paths import dashboards_dir


def test_app_is_found() -> None:
    assert (dashboards_dir() / "app.py").is_file()
    assert (dashboards_dir() / "views" / "plan.py").is_file()


class FakePopen:
    """Records the command; 'exits' at once with ``code``."""

    seen: ClassVar[list[list[str]]] = []
    code = 0

    def __init__(self, cmd: list[str]) -> None:
        FakePopen.seen.append(cmd)

    def wait(self, timeout: float | None = None) -> int:
        return FakePopen.code

    def poll(self) -> int:
        return FakePopen.code


@pytest.fixture
def fake_popen(monkeypatch: pytest.MonkeyPatch) -> type[FakePopen]:
    FakePopen.seen = []
    FakePopen.code = 0
    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    return FakePopen


def test_default_binds_localhost(fake_popen: type[FakePopen]) -> None:
    seen = fake_popen.seen
    assert main(["dashboard"]) == 0
    (cmd,) = seen
    assert cmd[1:4] == ["-m", "streamlit", "run"]
    assert Path(cmd[4]) == dashboards_dir() / "app.py"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.port") + 1] == "8501"
    assert cmd[cmd.index("--server.headless") + 1] == "true"


def test_port_and_host_options(fake_popen: type[FakePopen]) -> None:
    seen = fake_popen.seen
    fake_popen.code = 3
    assert main(["dashboard", "--port", "9123", "--host", "0.0.0.0"]) == 3  # streamlit's code
    assert seen[0][seen[0].index("--server.port") + 1] == "9123"
    assert seen[0][seen[0].index("--server.address") + 1] == "0.0.0.0"


def test_bad_port_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_command_helper() -> None:
    cmd = streamlit_command(Path("x.py"), host="h", port=1)
    assert "--browser.gatherUsageStats" in cmd


def test_sigterm_stops_the_server_and_leaves_no_orphan() -> None:
    """``bioplan dashboard`` forwards SIGTERM to streamlit (a real server on a free port)."""
    import os
    import signal
    import sys
    import time
    import urllib.request

    from tests.dashboard.browser import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bioplan", "dashboard", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("dashboard did not come up")
        children = [int(p) for p in
                    Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        assert children, "streamlit should run as a child process"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        time.sleep(0.5)
        for pid in children:
            assert not Path(f"/proc/{pid}").exists() or \
                Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", f"orphaned server {pid}"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
