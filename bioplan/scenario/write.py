"""Write a validated scenario back out (dashboard downloads, run folders)."""

from __future__ import annotations

import json

import yaml

from bioplan.scenario.schema import Scenario


def scenario_to_yaml(scenario: Scenario) -> str:
    """A self-contained YAML document (demand and hand-made recipe rows inline) that
    :func:`bioplan.scenario.load_scenario` reads back to an equal scenario."""
    data = json.loads(scenario.model_dump_json())
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
