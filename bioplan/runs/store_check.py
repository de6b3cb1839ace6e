"""``bioplan store check``: is a run store sound, and do its rows and the run folders agree?

Opening the store already refuses a damaged, empty or foreign SQLite file, an unreachable server
and an unknown schema version (:mod:`bioplan.runs.store_url`). This adds what a consistent store
also needs: no ``running`` row whose process is gone, and — given the output root — every run
folder belonging to a completed row, every completed row's folder present, no partial folders.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bioplan.runs.folders import PARTIAL_PREFIX
from bioplan.runs.store import RunStore


@dataclass
class StoreReport:
    """What ``store check`` found."""

    store: str
    backend: str
    schema_version: int
    runs_by_status: dict[str, int]
    problems: list[str] = field(default_factory=list)
    """One line per inconsistency, each with what the next ``bioplan run`` or the user does."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {**asdict(self), "ok": not self.problems}


def check_store(store: RunStore, out_root: Path | None = None) -> StoreReport:
    """Check ``store`` (and, with ``out_root``, its run folders); never writes anything."""
    runs = store.list_runs()
    report = StoreReport(
        store=store.display_url, backend=store.backend, schema_version=store.schema_version(),
        runs_by_status=dict(sorted(Counter(r.status for r in runs).items())),
    )
    for run in runs:
        if run.stale:
            report.problems.append(f"run {run.run_id} is marked running but its process is gone "
                                   "(the next `bioplan run` or `bioplan history` marks it failed)")
    if out_root is None or not out_root.is_dir():
        return report
    by_id = {r.run_id: r for r in runs}
    for folder in sorted(p for p in out_root.iterdir() if p.is_dir()):
        if folder.name.startswith(PARTIAL_PREFIX):
            report.problems.append(f"{folder} is a partial run folder (the next `bioplan run` "
                                   "removes it once its writer is gone)")
            continue
        owner = by_id.get(folder.name)
        if folder.name.startswith(".") or owner is None:
            continue  # not a run folder of this store
        if owner.status == "failed" and owner.run_dir is None:
            report.problems.append(f"{folder} belongs to run {owner.run_id}, which never completed "
                                   "(the next `bioplan run` moves it to .orphaned/)")
    for run in runs:
        if run.run_dir and Path(run.run_dir).parent == out_root.resolve() \
                and not Path(run.run_dir).is_dir():
            report.problems.append(f"run {run.run_id} is {run.status} but its folder "
                                   f"{run.run_dir} is missing")
    return report
