"""``bioplan simulate`` / ``bioplan cards`` output (in-process; exit codes via ``main``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bioplan.cli import main
from bioplan.yields import list_cards, simulate


def test_simulate_prints_per_phase_table_and_units(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "erythroid-cb-giarratana", "--seed-cells", "4.7e6"]) == 0
    out = capsys.readouterr().out
    for phase in ("expansion", "epo", "maturation"):
        assert phase in out
    for col in ("Retic", "peak_L", "medium_L", "EPO_kU", "SCF_mg"):
        assert col in out
    sim = simulate("erythroid-cb-giarratana", seed_cells=4.7e6)
    assert f"= {sim.units:.3g} units" in out
    assert "per unit:" in out and "cytokines per unit:" in out


def test_simulate_set_and_days_change_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "mk-cb-tpo", "--json"]) == 0
    base = json.loads(capsys.readouterr().out)
    assert (
        main(["simulate", "mk-cb-tpo", "--json", "--set", "maturation.TPO=5", "--days", "12"]) == 0
    )
    changed = json.loads(capsys.readouterr().out)
    assert changed["days"] == 12 and base["days"] == 14
    assert changed["settings"]["maturation.TPO"] == 5.0
    assert changed["phases"][1]["days"] == 5
    assert changed["product_cells_per_seed_cell"] < base["product_cells_per_seed_cell"]


def test_simulate_plot_writes_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "course.html"
    assert main(["simulate", "mk-imkcl-vermes", "--plot", str(target)]) == 0
    capsys.readouterr()
    text = target.read_text(encoding="utf-8")
    assert "MK8N" in text and "plotly" in text.lower()


def test_cards_lists_every_shipped_card(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cards", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list_cards()
    assert main(["cards", "--targets"]) == 0
    out = capsys.readouterr().out
    assert "giarratana-2005" in out and "ito-2018" in out and "product_per_run" in out


def test_bad_set_syntax_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "mk-cb-tpo", "--set", "maturationTPO"]) == 2
    err = capsys.readouterr().err
    assert "PHASE.FACTOR=VALUE" in err and "Traceback" not in err


def test_out_of_range_setting_warns_on_stderr_and_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", "erythroid-cb-giarratana", "--set", "expansion.EPO=50"]) == 0
    captured = capsys.readouterr()
    assert "warning: expansion.EPO = 50 U/mL is outside" in captured.err
    assert "Traceback" not in captured.err


def test_validate_json_reports_fit_and_held_out_errors(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["validate", "mk-cb-tpo", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    keys = {"lineage", "card", "dataset", "quantity", "day", "published", "predicted",
            "fit_error", "loo_log10_error"}
    assert rows and keys <= set(rows[0])
    assert {r["dataset"] for r in rows} >= {"six-2019", "mattia-2002"}


def test_card_with_an_unexplained_inert_factor_is_one_line_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    import yaml

    from bioplan.yields.loader import card_path

    data = yaml.safe_load(card_path("mk-cb-tpo").read_text())
    data["factors"]["IL6"].pop("no_modelled_effect")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "bioplan", "simulate", str(bad)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "factors.IL6" in lines[0] and "no_modelled_effect" in lines[0]
    assert str(bad) in lines[0] and "Fix:" in lines[0]
