"""Bad records give one line with file, field and fix (exit 2 from the CLI); forecasts on the
model's own trajectory equal the plan; the shipped example is labelled as generated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bioplan.cli import main
from bioplan.errors import InputError
from bioplan.paths import scenarios_dir
from bioplan.records import PlannedBatch, forecast, read_records
from bioplan.records.example import model_records, write_records

HEADER = "batch_id,date,kind,viable_cells,viability\n"


def _batch(batch_id: str = "B00001") -> dict[str, PlannedBatch]:
    return {batch_id: PlannedBatch(
        batch_id=batch_id, product="rbc", recipe="erythroid-bela/0", card="erythroid-bela",
        settings={}, start_date=dt.date(2027, 1, 4), days=26, seed_cells=7.6e8,
        planned_units=7.6e8 * 1171.03894799653 / 2e12, cells_per_unit=2e12)}


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "records.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "field", "fix"), [
    ("B00001,2027-01-05,count,-3e8,0.9\n", "line 2: viable_cells", "cannot be negative"),
    ("B00001,2027-01-05,count,3e8,1.2\n", "line 2: viability", "fraction <= 1"),
    ("B00001,05/01/2027,count,3e8,0.9\n", "line 2: date", "YYYY-MM-DD"),
    ("B00001,2027-01-05,sample,3e8,0.9\n", "line 2: kind", "seed, count or harvest"),
    ("B00001,2027-01-05,count,,0.9\n", "line 2: row", "fill in"),
])
def test_bad_values_name_line_column_and_fix(tmp_path, body, field, fix) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(InputError) as err:
        read_records(path)
    assert err.value.file == str(path)
    assert err.value.field == field
    assert fix in (err.value.fix or "")


@pytest.mark.parametrize(("body", "field", "what"), [
    ("B00099,2027-01-05,count,3e8,0.9\n", "line 2: batch_id", "unknown batch 'B00099'"),
    ("B00001,2027-01-01,count,3e8,0.9\n", "line 2: date", "outside batch B00001"),
    ("B00001,2027-02-15,count,3e8,0.9\n", "line 2: date", "outside batch B00001"),
    ("B00001,2027-01-06,seed,3e8,0.9\n", "line 2: date", "seed row"),
])
def test_records_that_do_not_fit_the_plan(tmp_path, body, field, what) -> None:
    with pytest.raises(InputError) as err:
        forecast(read_records(_write(tmp_path, body)), _batch())
    assert err.value.field == field
    assert what in err.value.message


def test_comment_lines_keep_line_numbers_right(tmp_path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("# generated\n" + HEADER + "B00001,2027-01-04,seed,7.6e8,0.9\n"
                    "B00001,2027-01-06,count,-1,0.9\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_records(path)
    assert err.value.field == "line 4: viable_cells"


def test_cli_prints_one_line_and_exits_2(tmp_path, capsys) -> None:
    path = _write(tmp_path, "B00001,2027-01-05,count,-3e8,0.9\n")
    code = main(["forecast", str(path), "--store", f"sqlite:///{tmp_path / 's.sqlite'}"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and err.startswith("error: ")
    assert f"{path}: line 2: viable_cells:" in err and "Fix:" in err


def test_mean_trajectory_forecasts_the_plan_and_half_growth_falls_short(tmp_path) -> None:
    batches = _batch()
    for growth, check in ((1.0, "equal"), (0.5, "short")):
        records = model_records(batches, dt.date(2027, 1, 11), growth=growth)
        path = write_records(records, tmp_path / f"g{growth}.csv", "generated (test)")
        row = forecast(read_records(path), batches).loc["B00001"]
        planned = batches["B00001"].planned_units
        assert row["last_day"] == 7 and row["status"] == "running"
        if check == "equal":
            assert row["forecast_p50"] == pytest.approx(planned, rel=1e-9)
            assert row["forecast_p10"] < planned < row["forecast_p90"]
        else:  # N_nom(7) = 29.3 cells per seed cell; at half growth 5.4: at most 18 % of the plan
            assert row["forecast_p50"] < 0.19 * planned


def test_harvested_batch_is_what_it_gave(tmp_path) -> None:
    path = _write(tmp_path, "B00001,2027-01-04,seed,7.6e8,0.9\n")
    path.write_text(path.read_text() .replace(HEADER, HEADER.strip() + ",units_packaged\n")
                    .replace("0.9\n", "0.9,\n") + "B00001,2027-01-30,harvest,,,0\n")
    row = forecast(read_records(path), _batch()).loc["B00001"]
    assert row["status"] == "harvested"
    assert row["forecast_p10"] == row["forecast_p50"] == row["forecast_p90"] == 0.0


def test_shipped_example_is_labelled_and_valid() -> None:
    path = scenarios_dir() / "records-example.csv"
    assert path.read_text(encoding="utf-8").startswith("# GENERATED FROM THE MODEL WITH NOISE")
    table = read_records(path)
    assert len(table) > 50 and set(table["kind"]) == {"seed", "count"}
    assert (table["date"] <= dt.date(2027, 1, 10)).all()


def test_forecast_draws_follow_the_forecast_quantiles(tmp_path) -> None:
    from bioplan.records.forecast import forecast_draws

    batches = _batch()
    path = write_records(model_records(batches, dt.date(2027, 1, 9)), tmp_path / "r.csv", "gen")
    table = forecast(read_records(path), batches)
    draws = forecast_draws(table, 4000, seed=1)["B00001"]
    row = table.loc["B00001"]
    assert draws.quantile(0.1) == pytest.approx(row["forecast_p10"], rel=0.05)
    assert draws.median() == pytest.approx(row["forecast_p50"], rel=0.03)
    assert draws.quantile(0.9) == pytest.approx(row["forecast_p90"], rel=0.05)


def test_a_batch_without_a_card_keeps_its_plan(tmp_path) -> None:
    batches = {"H1": PlannedBatch(batch_id="H1", product="rbc", recipe="tiny/0", card="",
                                  settings={}, start_date=dt.date(2027, 1, 4), days=10,
                                  seed_cells=1e6, planned_units=0.5, cells_per_unit=2e12)}
    path = _write(tmp_path, "H1,2027-01-06,count,3e6,0.9\n")
    row = forecast(read_records(path), batches).loc["H1"]
    assert row["status"] == "no card" and row["forecast_p50"] == 0.5 == row["forecast_p10"]


def test_a_day_0_count_stands_in_for_the_seed_row(tmp_path) -> None:
    batches = _batch()
    planned = batches["B00001"].planned_units
    # seeded 10 % above plan, then on the nominal trajectory: forecast 10 % above plan
    n2 = 7.6e8 * 1.1 * 2.72412091
    for kind in ("seed", "count"):
        path = _write(tmp_path, f"B00001,2027-01-04,{kind},{7.6e8 * 1.1},0.9\n"
                                f"B00001,2027-01-06,count,{n2},0.9\n")
        row = forecast(read_records(path), batches).loc["B00001"]
        assert row["seed_cells"] == pytest.approx(7.6e8 * 1.1)
        assert row["forecast_p50"] == pytest.approx(1.1 * planned, rel=1e-6)


def test_a_batch_counted_at_zero_cells_is_lost(tmp_path) -> None:
    path = _write(tmp_path, "B00001,2027-01-04,seed,7.6e8,0.9\nB00001,2027-01-08,count,0,0.9\n")
    row = forecast(read_records(path), _batch()).loc["B00001"]
    assert row["status"] == "lost" and row["forecast_p90"] == 0.0 and row["last_day"] == 4
