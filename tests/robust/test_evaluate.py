"""``bioplan.evaluate`` and ``bioplan evaluate``: the plan as planned is reproduced exactly without
variability; lots are shared; estimates converge; the JSON has the documented shape."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bioplan
from bioplan.cli import main
from bioplan.errors import ExitCode, InputError
from bioplan.results import Plan, check_plan
from bioplan.results.evaluation import standard_error
from bioplan.results.plan_io import read_plan
from bioplan.robust.samples import batch_factors, batch_table, lot_weights


@pytest.fixture(scope="module")
def default_plan() -> Plan:
    plan = bioplan.plan(marginal_values=False)
    assert plan.has_solution
    return plan


@pytest.fixture(scope="module")
def plan_dir(default_plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "default"
    default_plan.write(out)
    return out


def test_without_variability_the_plans_own_kpis_come_back(default_plan: Plan) -> None:
    ev = bioplan.evaluate(default_plan, samples=3, seed=0, variability=False)
    kpis = default_plan.kpis()
    for product in kpis.index:
        rows = ev.product_frame(str(product))
        assert np.allclose(rows["service_level"], kpis.loc[product, "service_level"], atol=1e-9)
        assert np.allclose(rows["short_units"], kpis.loc[product, "units_short"], atol=1e-7)
        assert np.allclose(rows["expired_units"], kpis.loc[product, "units_expired"], atol=1e-7)
        assert np.allclose(rows["delivered_units"], kpis.loc[product, "units_delivered"], atol=1e-7)
    assert default_plan.objective_usd is not None
    assert np.allclose(ev.costs["cost_usd"], default_plan.objective_usd, rtol=1e-9)


def test_the_json_has_the_documented_shape(default_plan: Plan) -> None:
    doc = bioplan.evaluate(default_plan, samples=40, seed=3).to_json()
    assert set(doc) == {"samples", "seed", "products", "cost_usd"}
    assert (doc["samples"], doc["seed"]) == (40, 3)
    assert set(doc["cost_usd"]) == {"mean", "p5", "p50", "p95"}
    for product in ("rbc", "platelet"):
        stats = doc["products"][product]
        assert set(stats["service_level"]) == {"mean", "p5", "p10", "p50"}
        assert {"mean", "p5", "p10", "p50"} <= set(stats["short_units"])
        assert {"mean", "p5", "p10", "p50"} <= set(stats["expired_units"])
        s = stats["service_level"]
        assert 0 <= s["p5"] <= s["p10"] <= s["p50"] <= 1
    assert doc["cost_usd"]["p5"] <= doc["cost_usd"]["p50"] <= doc["cost_usd"]["p95"]
    json.dumps(doc)


def test_same_seed_same_numbers_other_seed_other_numbers(default_plan: Plan) -> None:
    a = bioplan.evaluate(default_plan, samples=30, seed=5)
    b = bioplan.evaluate(default_plan, samples=30, seed=5)
    c = bioplan.evaluate(default_plan, samples=30, seed=6)
    pd.testing.assert_frame_equal(a.per_sample, b.per_sample)
    assert not np.allclose(a.factors.to_numpy(), c.factors.to_numpy())


def test_lot_weights_by_hand() -> None:
    # three batches of 0.3, 0.3 and 0.6 lots: the first two come from lot 0; the third takes the
    # last 0.4 of lot 0 and 0.2 of lot 1
    w, n = lot_weights(np.array([0.3, 0.3, 0.6]), 1.0)
    assert n == 2
    assert np.allclose(w, [[1, 0], [1, 0], [0.4 / 0.6, 0.2 / 0.6]])
    w, n = lot_weights(np.array([2.5]), 1.0)  # one batch pooled from three lots
    assert n == 3 and w[0].tolist() == pytest.approx([0.4, 0.4, 0.2])


def test_batches_seeded_from_one_lot_share_its_draw(default_plan: Plan) -> None:
    sc = default_plan.scenario
    table, factors = batch_factors(sc, default_plan.batches, 50, 11)
    recipes = sc.recipe_table()
    cells = table["recipe"].map(recipes["source"]).map(lambda s: sc.sources[s].cells_per_lot)
    shared = 0
    for _key, group in table.assign(lots=table["seed_cells"] / cells).groupby(["recipe", "seed_day"]):
        edges = np.concatenate([[0], np.cumsum(group["lots"].to_numpy())])
        cols = [table.index.get_loc(b) for b in group.index]
        for i in range(len(cols) - 1):
            if np.floor(edges[i]) == np.floor(edges[i + 2] - 1e-9):  # both inside one lot
                assert np.array_equal(factors[:, cols[i]], factors[:, cols[i + 1]])
                shared += 1
    assert shared > 0  # the default plan seeds several small RBC batches from one cord-blood unit
    assert (factors > 0).all() and factors.std() > 0


def test_more_samples_converge(default_plan: Plan) -> None:
    """Two independent estimates of the mean service and cost agree within their standard
    errors (4 sigma of the difference), and the larger sample's standard error is smaller."""
    small = bioplan.evaluate(default_plan, samples=150, seed=21)
    large = bioplan.evaluate(default_plan, samples=1200, seed=22)
    for product in ("rbc", "platelet"):
        a = small.product_frame(product)["service_level"].to_numpy()
        b = large.product_frame(product)["service_level"].to_numpy()
        se_a, se_b = standard_error(a), standard_error(b)
        assert se_a is not None and se_b is not None and se_b < se_a
        assert abs(a.mean() - b.mean()) <= 4 * np.hypot(se_a, se_b)
    ca, cb = small.cost_summary(), large.cost_summary()
    assert ca["se"] is not None and cb["se"] is not None
    assert abs(ca["mean"] - cb["mean"]) <= 4 * np.hypot(ca["se"], cb["se"])


def test_a_written_plan_reads_back(default_plan: Plan, plan_dir: Path) -> None:
    again = read_plan(plan_dir)
    assert again.status == default_plan.status
    assert again.objective_usd == pytest.approx(default_plan.objective_usd)
    pd.testing.assert_frame_equal(batch_table(again.batches), batch_table(default_plan.batches),
                                  check_dtype=False)
    assert check_plan(again) == []


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_evaluate_prints_a_table_and_json(plan_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["evaluate", str(plan_dir), "--samples", "60", "--seed", "2",
                          "--out", str(tmp_path / "ev")], capsys)
    assert code == ExitCode.OK, out + err
    assert "P10" in out and "platelet" in out and "cost      mean" in out
    per_sample = pd.read_csv(tmp_path / "ev" / "per_sample.csv", index_col=["sample", "product"])
    assert len(per_sample) == 60 * 2
    code, out, err = run(["evaluate", str(plan_dir), "--samples", "60", "--seed", "2",
                          "--no-variability", "--json"], capsys)
    assert code == ExitCode.OK, err
    doc = json.loads(out)
    assert doc["products"]["platelet"]["service_level"]["p10"] == pytest.approx(
        read_plan(plan_dir).kpis().loc["platelet", "service_level"])


@pytest.mark.parametrize(("args", "field"), [
    (["--samples", "0"], "--samples"),
    (["--samples", "-3"], "--samples"),
    (["--samples", "5", "--uncertainty", "lots"], "--uncertainty"),
])
def test_cli_bad_samples_is_one_line(plan_dir: Path, args: list[str], field: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["evaluate", str(plan_dir), *args], capsys)
    assert code == ExitCode.BAD_INPUT
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0]
    assert "Fix:" in lines[0]


def test_cli_missing_plan_folder_is_one_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["evaluate", str(tmp_path / "nowhere")], capsys)
    assert code == ExitCode.BAD_INPUT
    assert len(err.strip().splitlines()) == 1 and "scenario.yaml" in err and "Fix:" in err


def test_library_rejects_zero_samples(default_plan: Plan) -> None:
    with pytest.raises(InputError, match="samples"):
        bioplan.evaluate(default_plan, samples=0)


def test_figures_of_an_evaluation(default_plan: Plan) -> None:
    from bioplan.robust_charts import front_figure, service_histogram_figure, stock_fan_figure

    ev = bioplan.evaluate(default_plan, samples=80, seed=4)
    fan = stock_fan_figure(ev)
    assert len(fan.data) == 2 * len(ev.product_names)  # a P10-P90 band and a median each
    band = fan.data[0]
    horizon = default_plan.scenario.horizon.days
    assert len(band.x) == 2 * horizon
    lower, upper = np.array(band.y[horizon:][::-1]), np.array(band.y[:horizon])
    assert (lower <= upper + 1e-12).all()
    hist = service_histogram_figure(ev)
    assert [t.name for t in hist.data] == ev.product_names
    assert len(hist.data[0].x) == 80
    front = pd.DataFrame({"cost_usd": [1.0, 2.0], "service_p10:rbc": [0.8, 0.9]},
                         index=pd.Index([0.8, 0.9], name="target"))
    assert list(front_figure(front).data[0].y) == [1.0, 2.0]


def test_a_samples_calibration_error_is_shared_by_its_batches(default_plan: Plan) -> None:
    """``fit`` only: no lot spread, one draw of the card's fitted parameters per sample, so every
    batch of one recipe has the same factor within a sample and the factors differ between
    samples. ``lot`` only keeps the batches apart (each its own lots). ``both`` has the lot
    spread around the sample's shared fit: its mean over a recipe's batches keeps a spread
    between samples near the fit's, not shrunk by the lots averaged."""
    sc = default_plan.scenario
    kw = {"samples": 30, "seed": 2}
    table, fit = batch_factors(sc, default_plan.batches, uncertainty="fit", **kw)
    _, lot = batch_factors(sc, default_plan.batches, uncertainty="lot", **kw)
    _, both = batch_factors(sc, default_plan.batches, uncertainty="both", **kw)
    recipe, rows = max(table.groupby("recipe").indices.items(), key=lambda kv: len(kv[1]))
    assert len(rows) >= 3, recipe
    assert np.ptp(fit[:, rows], axis=1).max() < 1e-12
    assert np.ptp(fit[:, rows[0]]) > 0.05
    assert np.ptp(lot[:, rows], axis=1).min() > 0.0
    assert both[:, rows].mean(axis=1).std() > 2 * lot[:, rows].mean(axis=1).std()


def test_evaluate_names_the_uncertainty_it_drew(default_plan: Plan) -> None:
    ev = bioplan.evaluate(default_plan, samples=5, seed=1, uncertainty="lot")
    assert ev.uncertainty == "lot"
    assert bioplan.evaluate(default_plan, samples=5, seed=1).uncertainty == "both"
    robust_lot = dataclasses.replace(default_plan, robust={"yield_uncertainty": "lot"})
    assert bioplan.evaluate(robust_lot, samples=5, seed=1).uncertainty == "lot"  # the program's own
    with pytest.raises(InputError, match="not one of both, lot, fit"):
        bioplan.evaluate(default_plan, samples=5, uncertainty="lots")
