"""Named what-ifs of a scenario file, uploads of a YAML with its CSVs, and the round-trip download."""

from __future__ import annotations

import io
import zipfile

import pytest
import yaml

from bioplan.app import files, whatifs
from bioplan.errors import InputError
from bioplan.scenario import load_scenario
from tests.dashboard import fakes


@pytest.fixture(scope="module")
def default() -> tuple[whatifs.ScenarioFile, object]:
    return whatifs.shipped_file(None)


def test_every_named_entry_of_the_default_file_is_offered_and_loads(default) -> None:  # type: ignore[no-untyped-def]
    source, base = default
    named = dict(source.named())
    # the file's five named scenarios first, then the overrides that are not already one
    assert list(named)[:5] == ["growth", "growth-without-rentals", "bank-only", "screened-platelets",
                               "robust-platelets"]
    assert named["growth-without-rentals"] == "high-demand + no-rental"
    assert named["cheap-epo"] == "media.cytokine_price_usd_per_kU.EPO = 11.03"
    for name in named:  # each one is what the CLI loads for `--scenario <name>`
        expected = load_scenario(None, scenario=name)
        assert source.load(name).model_dump_json() == expected.model_dump_json(), name
    assert source.load(whatifs.BASE).model_dump_json() == base.model_dump_json()


def test_download_keeps_comments_overrides_scenarios_and_maintenance(default) -> None:  # type: ignore[no-untyped-def]
    source, base = default
    edited = base.model_copy(deep=True)
    edited.reactors["grex-1L"].units_owned = 30
    text = whatifs.scenario_document(source, edited).decode()
    assert "units_owned: 30" in text
    assert "# PF-D: EPO Medicare limit $13.33 per 1000 U" in text  # a citation comment survives
    assert "# assumption: annual service of the first unit in week 5" in text
    data = yaml.safe_load(text)
    assert set(data["scenarios"]) == {"growth", "growth-without-rentals", "bank-only", "screened-platelets",
                                      "robust-platelets"}
    assert data["overrides"]["no-rental"] == {"reactors.rocking-bag-500L.max_additional_units": 0}
    assert data["reactors"]["vermes-8L"]["maintenance"][0]["days"] == 3
    assert "file" not in data["demand"] and len(data["demand"]["records"]) == len(base.demand.records)
    # it uploads again, alone, to the edited scenario; its named scenarios still work
    again, again_text = files.load_upload("mine.yaml", text.encode())
    inline = edited.model_copy(deep=True)
    inline.demand.file = None  # the records are inline now
    assert again.model_dump_json() == inline.model_dump_json()
    grown = whatifs.scenario_file("mine.yaml", again_text, again).load("growth")
    assert grown.demand.scale == 1.5 and grown.reactors["grex-1L"].units_owned == 30


def test_download_is_named_after_the_scenario() -> None:
    assert whatifs.download_name("default (edited)") == "default-edited.yaml"
    assert whatifs.download_name("default · growth") == "default-growth.yaml"
    assert whatifs.download_name("my plant.yaml") == "my-plant.yaml"


def _with_csv() -> tuple[bytes, bytes]:
    data = fakes.standalone_dict()
    data["demand"] = {"file": "tables/demand.csv"}
    return yaml.safe_dump(data).encode(), b"date,product,units\n2027-01-20,rbc,6\n2027-01-25,platelet,2\n"


def test_a_yaml_uploaded_together_with_its_csv_loads() -> None:
    text, csv = _with_csv()
    scn, source = whatifs.upload_files([("plant.yaml", text), ("demand.csv", csv)])
    assert [(r.product, r.units) for r in scn.demand.records] == [("rbc", 6.0), ("platelet", 2.0)]
    assert source.label == "plant.yaml" and source.raw["demand"]["records"]  # tables read in


def test_a_yaml_without_its_csv_says_which_file_to_add() -> None:
    text, _ = _with_csv()
    with pytest.raises(InputError) as info:
        whatifs.upload_files([("plant.yaml", text)])
    assert info.value.field == "demand.file" and "'demand.csv'" in info.value.message
    assert "together with demand.csv" in (info.value.fix or "")
    with pytest.raises(InputError, match="expected exactly one"):
        whatifs.upload_files([("a.yaml", text), ("b.yaml", text)])


def test_a_zip_upload_still_works() -> None:
    text, csv = _with_csv()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("plant/plant.yaml", text)
        zf.writestr("plant/tables/demand.csv", csv)
    scn, source = whatifs.upload_files([("plant.zip", buf.getvalue())])
    assert len(scn.demand.records) == 2 and source.label == "plant.zip"
