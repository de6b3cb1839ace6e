"""Scenario sweeps: a grid and/or Monte-Carlo sample over scenario and yield parameters, planned
in parallel on a local process pool, any ``concurrent.futures.Executor`` or a Dask cluster.

>>> import bioplan
>>> table = bioplan.sweep("models/scenarios/sweep-example.yaml", out_dir="out/sweep")  # doctest: +SKIP

``bioplan.sweep`` is both this package and the function :func:`bioplan.sweep.core.sweep`: once the
package is imported, Python binds the name ``bioplan.sweep`` to the module, so the module itself
is made callable and forwards to the function.
"""

import sys
import types
from typing import Any

from bioplan.sweep.core import summarise, sweep, write_outputs
from bioplan.sweep.point import PointTask, evaluate_point
from bioplan.sweep.spec import SweepSpec, load_sweep, spec_from_dict

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


class _CallableModule(types.ModuleType):
    """``bioplan.sweep(...)`` works whether the name resolves to this module or the function."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
