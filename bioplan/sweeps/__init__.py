"""Scenario sweeps: a grid and/or Monte-Carlo sample over scenario and yield parameters, planned
in parallel on a local process pool, any ``concurrent.futures.Executor`` or a Dask cluster.

>>> import bioplan
>>> table = bioplan.sweep("models/scenarios/sweep-example.yaml", out_dir="out/sweep")  # doctest: +SKIP

The function is exported as ``bioplan.sweep``; this package is ``bioplan.sweeps``.
"""

from bioplan.sweeps.core import summarise, sweep, write_outputs
from bioplan.sweeps.point import PointTask, evaluate_point
from bioplan.sweeps.spec import SweepSpec, load_sweep, spec_from_dict

__all__ = [
    "PointTask",
    "SweepSpec",
    "evaluate_point",
    "load_sweep",
    "spec_from_dict",
    "summarise",
    "sweep",
    "write_outputs",
]

