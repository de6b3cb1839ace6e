"""The annotated scenario example in docs/planning.md is a valid scenario."""

from __future__ import annotations

import re
from pathlib import Path

from bioplan.scenario import load_scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "planning.md"


def test_annotated_example_loads(tmp_path: Path) -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    (tmp_path / "my-site.yaml").write_text(blocks[0])
    (tmp_path / "my-demand.csv").write_text("date,product,units\n2027-01-18,rbc,0.4\n")
    sc = load_scenario(tmp_path / "my-site.yaml", scenario="growth-without-rentals")
    assert sc.name == "my-site" and sc.demand.scale == 1.5
    assert sc.reactors["rocking-bag-500L"].max_additional_units == 0
    assert len(sc.recipe_table()) == 8  # default protocol + 2 x 2 x 2 variants, deduplicated
