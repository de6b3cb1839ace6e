"""``bioplan dashboard``: serve the Streamlit dashboard for process engineers.

The app lives in :func:`bioplan.paths.dashboards_dir` (``dashboards/app.py`` in a checkout,
``bioplan/dashboards/app.py`` in a wheel) and is served by ``streamlit run`` in a child process, so
Ctrl-C stops it cleanly and its exit code becomes ours.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import typer

from bioplan.errors import InputError
from bioplan.paths import dashboards_dir


def streamlit_command(app_path: Path, *, host: str, port: int, headless: bool = True) -> list[str]:
    """The ``streamlit run`` command line that serves ``app_path`` on ``host:port``.

    >>> streamlit_command(Path("app.py"), host="127.0.0.1", port=8501)[:4]  # doctest: +ELLIPSIS
    ['...', '-m', 'streamlit', 'run']
    """
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bioplan dashboard`` to ``app`` (this area has no benchmarks)."""

    @app.command("dashboard")
    def dashboard(
        port: int = typer.Option(8501, "--port", help="TCP port to serve on."),
        host: str = typer.Option(
            "127.0.0.1",
            "--host",
            help="Address to bind. The default serves this machine only; use 0.0.0.0 to share.",
        ),
        open_browser: bool = typer.Option(
            False, "--open/--no-open", help="Open a browser tab on start."
        ),
    ) -> None:
        """Serve the dashboard (built-in default scenario loaded) until Ctrl-C."""
        if not 0 < port < 65536:
            msg = f"port {port} is out of range"
            raise InputError(
                msg, field="--port", fix="give a port in 1..65535"
            )
        app_path = dashboards_dir() / "app.py"
        if not app_path.is_file():
            msg = "the dashboard app is missing from this installation"
            raise InputError(
                msg,
                file=str(app_path),
                fix="reinstall bioplan (pip install -e .)",
            )
        typer.echo(f"bioplan dashboard: http://{host}:{port}  (Ctrl-C to stop)", err=True)
        cmd = streamlit_command(app_path, host=host, port=port, headless=not open_browser)
        raise typer.Exit(serve(cmd))


def serve(cmd: list[str]) -> int:
    """Run the server until it exits; SIGTERM / SIGINT to us stop it too (no orphaned server)."""
    child = subprocess.Popen(cmd)

    def stop(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            try:
                code = child.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                continue
        # streamlit exits with -SIGTERM / 0 when stopped on request
        return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else int(code)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:
            child.kill()
            child.wait(5)
