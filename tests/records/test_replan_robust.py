"""A robust nightly run on records (issue 15 item 3 with issue 10): the kept running batches enter
every yield sample with their own forecast spread, and the run says so (forecasts.csv, run.json,
summary.json, the HTML report).

Same small scenario and run 1 as ``test_replan`` (BEL-A-like card, rocking bags, 4 units due in
February); run 2 keeps the batches started in the first week, one of them counted at half the
expected growth, and asks for a robust plan with 3 samples.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import yaml

from bioplan.records.example import model_records, write_records
from bioplan.runs.runner import execute_run
from tests.records.test_replan import NEXT, _started, first_run

__all__ = ["first_run"]  # the module fixture, shared with test_replan


def test_a_robust_run_draws_the_kept_batches_from_their_forecasts(first_run, tmp_path) -> None:
    root = Path(str(first_run["root"]))
    for name in ("small.yaml", "small-demand.csv", "store.sqlite"):
        shutil.copy(root / name, tmp_path / name)
    started = _started(first_run)
    slow = sorted(started)[0]
    records = model_records(started, NEXT - dt.timedelta(days=1), growth={slow: 0.5})
    write_records(records, tmp_path / "records.csv", "generated from the model (test)")
    config = yaml.safe_load((root / "run.yaml").read_text())
    config |= {"start_date": NEXT.isoformat(), "records": "records.csv",
               "robust": {"samples": 3, "seed": 5}, "outputs": {"html_report": True}}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    out = execute_run(tmp_path / "run.yaml", store_url=f"sqlite:///{tmp_path / 'store.sqlite'}",
                      out_root=tmp_path / "out")
    assert out.exit_code == 0, out.message  # the checker passes on the robust plan
    run_dir = Path(str(out.run.run_dir))
    forecasts = pd.read_csv(run_dir / "forecasts.csv", index_col="batch_id")
    assert sorted(forecasts.index) == sorted(started)
    running = forecasts[forecasts["log_sd"] > 0]
    assert slow in running.index
    assert (running["robust_samples"] == "forecast spread").all()
    robust = json.loads((run_dir / "summary.json").read_text())["robust"]
    kept = robust["kept_batches"]
    assert sorted(kept) == sorted(running.index)
    assert kept[slow]["forecast_p10"] < kept[slow]["forecast_p50"] < kept[slow]["forecast_p90"]
    assert kept[slow]["log_sd"] == forecasts.loc[slow, "log_sd"]
    meta = json.loads((run_dir / "run.json").read_text())
    assert {r["batch_id"]: r["robust_samples"] for r in meta["batch_forecasts"]}[slow] == \
        "forecast spread"
    report = (run_dir / "report.html").read_text()
    assert "Kept batches drawn from their forecasts in every sample" in report
    assert slow in report
