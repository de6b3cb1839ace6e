"""Real-browser harness: serve the dashboard with ``bioplan dashboard`` on 127.0.0.1 and drive
Debian's Chromium through Playwright (no browser download)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def dashboard_server(timeout_s: float = 60) -> Iterator[Server]:
    """``bioplan dashboard --port P`` in a child process; yields once ``/_stcore/health`` is ok."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "dashboard-server.log"
    sessions = Path(tempfile.mkdtemp(prefix="bioplan-sessions-"))  # not the user's ~/.cache
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "BIOPLAN_SESSION_DIR": str(sessions)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bioplan", "dashboard", "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"dashboard exited with {proc.returncode}: {log.read_text()}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                        if resp.read().strip() == b"ok":
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dashboard not healthy after {timeout_s} s: {log.read_text()}")
                time.sleep(0.2)
            yield Server(url=url, process=proc, log=log)
        finally:
            stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``bioplan dashboard`` and everything it started (streamlit, solve workers): they share
    the process group the server was started in."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(15)
    time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(5)


@dataclass
class ConsoleWatch:
    """Collects browser console errors and uncaught page errors."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda msg: self.errors.append(f"console.{msg.type}: {msg.text}")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        # a failed request shows in the console without its address: record the address too
        page.on("requestfailed", lambda req: self.errors.append(f"request failed: {req.url} ({req.failure})"))
        page.on("response", lambda resp: self.errors.append(f"HTTP {resp.status}: {resp.url}")
                if resp.status >= 400 else None)


BASE_PROBE = re.compile(r"^HTTP 404: https?://[^/]+/[a-z-]+/_stcore/(health|host-config)$")
"""Streamlit's frontend finds the server's base path by asking ``<path>/_stcore/health`` and
``<path>/_stcore/host-config`` first and then the parent path: on a deep link (``/compare``) or a
reload of one, the first two requests are answered 404 by design, and the page loads."""
RESOURCE_404 = "console.error: Failed to load resource: the server responded with a status of 404 (Not Found)"


def real_errors(errors: list[str]) -> list[str]:
    """``errors`` without the base-path probes of a deep link (and their console lines)."""
    probes = sum(1 for e in errors if BASE_PROBE.match(e))
    out = []
    for e in errors:
        if BASE_PROBE.match(e):
            continue
        if e == RESOURCE_404 and probes > 0:
            probes -= 1
            continue
        out.append(e)
    return out


@contextlib.contextmanager
def browser_page(width: int = 1440, height: int = 2200) -> Iterator[tuple[Any, ConsoleWatch]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            watch = ConsoleWatch()
            watch.attach(page)
            yield page, watch
        finally:
            browser.close()


def wait_app_idle(page: Any, timeout_ms: int = 30_000) -> None:
    """Wait until Streamlit has rendered and is no longer running the script."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=timeout_ms,
    )
    page.wait_for_timeout(300)
