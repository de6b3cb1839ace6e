"""Planning scenarios: YAML + CSV files validated into a typed, self-contained :class:`Scenario`."""

from bioplan.scenario.load import (
    DEFAULT_SCENARIO,
    apply_overrides,
    list_scenarios,
    load_scenario,
    read_demand_csv,
    resolve_scenario_path,
    scenario_from_dict,
)
from bioplan.scenario.schema import Scenario
from bioplan.scenario.write import scenario_to_yaml

__all__ = [
    "DEFAULT_SCENARIO",
    "Scenario",
    "apply_overrides",
    "list_scenarios",
    "load_scenario",
    "read_demand_csv",
    "resolve_scenario_path",
    "scenario_from_dict",
    "scenario_to_yaml",
]
