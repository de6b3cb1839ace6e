"""Sweeps with the real planner: local pool vs Dask LocalCluster, failing points, outputs, CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import bioplan
from bioplan.cli import main
from bioplan.sweeps import load_sweep

pytestmark = pytest.mark.slow

SPEC = Path(__file__).parent / "data" / "sweep.yaml"
TIMING = ["solve_time_s", "wall_time_s"]


@pytest.fixture(scope="module")
def pool_table(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("sweep-pool")
    table = bioplan.sweep(SPEC, out_dir=out, max_workers=2, progress=False)  # the public API
    table.attrs["out"] = str(out)
    return table


def test_failing_point_recorded_others_complete(pool_table: pd.DataFrame) -> None:
    assert len(pool_table) == 6 and list(pool_table.index) == list(range(6))
    failed = pool_table[pool_table["status"] == "error"]
    assert sorted(failed["demand.scale"]) == [-1.0, -1.0]
    assert failed["error"].str.contains("demand.scale").all()
    ok = pool_table[pool_table["status"] != "error"]
    assert len(ok) == 4 and set(ok["status"]) == {"optimal"}
    assert ok["objective_usd"].notna().all() and ok["service_level"].notna().all()
    assert ok["cost_per_unit_usd"].gt(0).all()
    prices = pool_table["media.cytokine_price_usd_per_kU.EPO"]
    assert prices.between(10, 20).all() and prices.nunique() == 2


def test_outputs_written(pool_table: pd.DataFrame) -> None:
    out = Path(pool_table.attrs["out"])
    for name in ("sweep.parquet", "sweep.csv", "summary.csv", "sweep.yaml"):
        assert (out / name).is_file()
    back = pd.read_parquet(out / "sweep.parquet")
    pd.testing.assert_frame_equal(back.drop(columns=TIMING), pool_table.drop(columns=TIMING),
                                  check_dtype=False)
    summary = pd.read_csv(out / "summary.csv")
    assert {"demand.scale", "metric", "n_ok", "n_failed", "q05", "q50", "q95"} <= set(summary.columns)
    assert set(summary["metric"]) >= {"cost_per_unit_usd", "service_level"}
    failed_rows = summary[summary["demand.scale"] == -1.0]
    assert (failed_rows["n_failed"] == 2).all() and (failed_rows["n_ok"] == 0).all()


def test_dask_local_cluster_gives_identical_table(pool_table: pd.DataFrame) -> None:
    """Through the scheduler's tcp:// address, as with a remote cluster."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.daemon": False}), LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        table = bioplan.sweep(SPEC, dask=address, progress=False)
    pd.testing.assert_frame_equal(table.drop(columns=TIMING), pool_table.drop(columns=TIMING))


def test_any_executor_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    spec = load_sweep(SPEC)
    spec.grid = {"demand.scale": [2.0]}
    spec.samples = None
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")) as pool:
        table = bioplan.sweep(spec, executor=pool, progress=False)
    assert list(table["status"]) == ["optimal"]
    # the CLI on a Dask LocalCluster (--dask local): one good point, one failing
    small = tmp_path / "small.yaml"
    small.write_text(f"scenario: {SPEC.parent / 'tiny.yaml'}\ngrid: {{demand.scale: [1.0, -1.0]}}\n"
                     "solver: {mip_gap: 0.0}\n")
    assert main(["sweep", str(small), "--out", str(tmp_path / "a"), "--dask", "local",
                 "--no-progress"]) == 0
    text = capsys.readouterr()
    assert "2 points, 1 failed" in text.out and "point 1 failed:" in text.err
    cli_table = pd.read_parquet(tmp_path / "a" / "sweep.parquet")
    assert list(cli_table["status"]) == ["optimal", "error"]
    assert main(["sweep", str(small), "--out", str(tmp_path / "b"), "--strict", "--workers", "1",
                 "--no-progress"]) == 1
