"""HiGHS sizes one thread scheduler per process at its first run; a later run asking for another
``threads`` is refused ("Not Set") until the scheduler is reset. ``run_highs`` resets and reruns,
so a pricing LP with ``threads = 1`` works after another HiGHS of the process ran with the
default (found as an order-dependent failure of the robust-pricing test). Run in a fresh
interpreter: the scheduler is process state."""

from __future__ import annotations

import json
import subprocess
import sys

_SCRIPT = """
import json
import highspy
import numpy as np
from bioplan.optimisation.quiet_highs import run_highs

def lp():
    m = highspy.HighsLp()  # min x  s.t.  x >= 1,  0 <= x <= 10
    m.num_col_, m.num_row_ = 1, 1
    m.col_cost_, m.col_lower_, m.col_upper_ = np.array([1.0]), np.array([0.0]), np.array([10.0])
    m.row_lower_, m.row_upper_ = np.array([1.0]), np.array([1e30])
    m.a_matrix_.start_, m.a_matrix_.index_ = np.array([0, 1]), np.array([0])
    m.a_matrix_.value_ = np.array([1.0])
    return m

def highs(threads=None):
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if threads is not None:
        h.setOptionValue("threads", threads)
    h.passModel(lp())
    return h

out = {}
first = highs(2)  # explicit, so the scheduler size differs whatever the default is
first.run()
out["first"] = first.modelStatusToString(first.getModelStatus())
plain = highs(1)
plain.run()
out["plain"] = plain.modelStatusToString(plain.getModelStatus())
helped = highs(1)
run_highs(helped)
out["helped"] = helped.modelStatusToString(helped.getModelStatus())
out["x"] = list(helped.getSolution().col_value)
print(json.dumps(out))
"""


def test_a_run_with_another_thread_count_succeeds() -> None:
    got = json.loads(subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True,
                                    text=True, check=True, timeout=120).stdout.splitlines()[-1])
    assert got["first"] == "Optimal"
    assert got["plain"] == "Not Set"  # the premise: HiGHS refuses without the reset
    assert got["helped"] == "Optimal" and got["x"] == [1.0]
