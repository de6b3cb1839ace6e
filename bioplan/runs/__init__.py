"""Unattended planning runs: run configs, the run store (SQLAlchemy), atomic run folders.

>>> from bioplan.runs import RunStore
>>> RunStore("sqlite://", allow_memory=True).list_runs()
[]
"""

from bioplan.runs.config import RunConfig, load_run_config
from bioplan.runs.store import RunInfo, RunStore, resolve_store_url

__all__ = ["RunConfig", "RunInfo", "RunStore", "load_run_config", "resolve_store_url"]
