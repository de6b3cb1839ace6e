"""The ``bioplan`` command line.

Each area registers its commands from its own module (``yields_cmds``, ``plan_cmds``,
``runs_cmds``, ``dashboard_cmds``); this module only assembles them and turns errors into one
clear line on stderr plus a documented exit code (:class:`bioplan.errors.ExitCode`).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import typer

from bioplan.cli import (
    dashboard_cmds,
    errors,
    media_search_cmds,
    plan_cmds,
    planbench_cmds,
    robust_cmds,
    runs_cmds,
    store_cmds,
    yields_cmds,
)
from bioplan.errors import BioplanError, ExitCode

app = typer.Typer(
    name="bioplan",
    help="Plan in vitro manufacture of red blood cells and platelets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(help="Benchmarks that print tables of sizes, times and ratios.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks for errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr."),
) -> None:
    if debug:
        os.environ["BIOPLAN_DEBUG"] = "1"
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for _module in (yields_cmds, plan_cmds, planbench_cmds, runs_cmds, store_cmds, dashboard_cmds,
                robust_cmds, media_search_cmds):
    _module.register(app, bench_app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bioplan`` script; returns (and exits with) an :class:`ExitCode`."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("BIOPLAN_DEBUG") == "1"
    as_json = errors.json_wanted(args)
    try:
        code = app(args=args, prog_name="bioplan", standalone_mode=False)
    except BioplanError as err:
        if debug:
            traceback.print_exc()
        code = int(err.exit_code)
        errors.report(err, as_json=as_json, exit_code=code)
    except typer.Exit as err:  # a command's deliberate exit code
        code = err.exit_code
    except SystemExit as err:
        code = 0 if err.code is None else err.code if isinstance(err.code, int) else 1
    except typer.Abort:
        code = int(ExitCode.INTERNAL)
        errors.report("aborted", as_json=as_json, exit_code=code)
    except Exception as err:  # click usage errors and genuine bugs
        code = _unexpected(err, debug, as_json)
    code = 0 if code is None else int(code)
    if argv is None:
        sys.exit(code)
    return code


def _unexpected(err: Exception, debug: bool, as_json: bool) -> int:
    if errors.is_usage_error(err):
        problem = errors.usage_error(err)
        errors.report(problem, as_json=as_json, exit_code=int(problem.exit_code))
        return int(problem.exit_code)
    if debug:
        traceback.print_exc()
    errors.report(errors.internal(err), as_json=as_json, exit_code=int(ExitCode.INTERNAL))
    return int(ExitCode.INTERNAL)
