"""``bioplan bench plan --json`` prints nothing but JSON on stdout (HiGHS's banner included)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path


def test_bench_plan_json_stdout_is_pure_json() -> None:
    """The first ``Highs`` of each process prints a banner on fd 1 whatever ``output_flag`` says;
    the solve processes build theirs with fd 1 silenced, so stdout parses as JSON as a whole."""
    exe = shutil.which("bioplan", path=str(Path(sys.executable).parent))
    assert exe is not None
    proc = subprocess.run([exe, "bench", "plan", "--size", "S", "--time-limit", "2", "--json"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["name"] for r in rows] == ["S"]
    assert 0 <= rows[0]["outside_highs_share"] <= 1
