"""A scenario file's named what-ifs (``scenarios:`` and ``overrides:``) and its round-trip download.

A :class:`ScenarioFile` keeps what was loaded: the file's text (comments, citations, overrides,
named scenarios, maintenance windows) and its mapping with the CSV tables read in, so every named
entry can be loaded later without the files (an upload's folder is gone by then).
:func:`scenario_document` writes the current scenario back into that text with ruamel.yaml's
round-trip mode: only the values that changed are replaced, everything else stays as written.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML

from bioplan.errors import InputError

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

BASE = "(as in the file)"
"""The choice that loads the file without any named what-if."""


@dataclass(frozen=True)
class ScenarioFile:
    """A loaded scenario file: ``label`` (a shipped name or the upload's file name), ``text`` (the
    YAML as written) and ``raw`` (its mapping, tables read in from the base scenario)."""

    label: str
    text: str
    raw: dict[str, Any]

    def named(self) -> list[tuple[str, str]]:
        """``(name, what it changes)`` of every ``scenarios:`` entry, then every ``overrides:``
        entry, in file order."""
        combos = self.raw.get("scenarios") or {}
        named = self.raw.get("overrides") or {}
        out = [(name, " + ".join([entry] if isinstance(entry, str) else list(entry)))
               for name, entry in combos.items()]
        out += [(name, ", ".join(f"{k} = {v}" for k, v in _flat(changes)))
                for name, changes in named.items() if name not in combos]
        return out

    def load(self, name: str | None) -> Scenario:
        """The scenario with the named entry applied (None or :data:`BASE`: the file as it is)."""
        from bioplan.scenario import scenario_from_dict

        return scenario_from_dict(self.raw, scenario=None if name in (None, BASE) else name,
                                  file=self.label)


def _flat(changes: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(changes, Mapping):
        for key, value in changes.items():
            yield from _flat(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, changes


def scenario_file(label: str, text: str, base: Scenario) -> ScenarioFile:
    """The :class:`ScenarioFile` of ``text``, whose validated base scenario is ``base`` (its demand
    records and recipe sources replace the file's references to CSV tables)."""
    import yaml

    raw = yaml.safe_load(text) or {}
    validated = json.loads(base.model_dump_json())
    raw["demand"] = validated["demand"]
    raw["recipes"] = validated["recipes"]
    return ScenarioFile(label=label, text=text, raw=raw)


def shipped_file(name: str | None) -> tuple[ScenarioFile, Scenario]:
    """A shipped scenario (None: the built-in default) and its base scenario."""
    from bioplan.scenario import load_scenario, resolve_scenario_path

    path = resolve_scenario_path(name)
    base = load_scenario(path)
    return scenario_file(name or path.stem, path.read_text(encoding="utf-8"), base), base


# ---- the round-trip download ---------------------------------------------------------------------


_REMOVED: Any = None
"""A key missing on one side (None: a removed value is written as null, which the schema reads
as its default)."""


def changed_values(old: Any, new: Any,
                   path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """``(path, new value)`` of every value that differs between two mappings (lists compare
    whole; a removed key yields a private marker)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in dict.fromkeys([*old, *new]):
            yield from changed_values(old.get(key, _REMOVED), new.get(key, _REMOVED), (*path, str(key)))
    elif old != new:
        yield path, new


def _set(doc: Any, path: tuple[str, ...], value: Any) -> None:
    node = doc
    for key in path[:-1]:
        if key not in node or not isinstance(node[key], Mapping):
            node[key] = {}
        node = node[key]
    if value is _REMOVED:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


def scenario_document(source: ScenarioFile, scenario: Scenario) -> bytes:
    """The file's YAML with ``scenario``'s values written in; comments, ``overrides:``,
    ``scenarios:`` and everything unchanged stay as written. Demand and recipe tables read from
    CSV files are written inline, so the document loads on its own."""
    from bioplan.scenario import scenario_from_dict

    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = 100
    doc = yaml.load(source.text)
    base = json.loads(scenario_from_dict(source.raw, file=source.label).model_dump_json())
    new = json.loads(scenario.model_dump_json())
    for path, value in changed_values(base, new):
        _set(doc, path, copy.deepcopy(value))
    demand = doc.get("demand")
    if isinstance(demand, MutableMapping) and demand.get("file"):
        demand.pop("file")
        demand["records"] = new["demand"]["records"]
    for i, src in enumerate(doc.get("recipes") or []):
        if isinstance(src, MutableMapping) and src.get("table"):
            doc["recipes"][i] = new["recipes"][i]
    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue().encode("utf-8")


def download_name(label: str) -> str:
    """A file name for the scenario labelled ``label``: ``default (edited)`` -> ``default-edited.yaml``."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(label).stem if label.endswith((".yaml", ".yml", ".zip"))
                  else label).strip("-")
    return f"{stem or 'scenario'}.yaml"


def upload_files(files: list[tuple[str, bytes]]) -> tuple[Scenario, ScenarioFile]:
    """Validate an upload of one scenario YAML together with the CSV tables it references (or one
    zip of them). The YAML's table paths are matched to the uploaded files by file name."""
    from bioplan.app.files import load_upload

    yamls = [(n, d) for n, d in files if n.lower().endswith((".yaml", ".yml"))]
    zips = [(n, d) for n, d in files if n.lower().endswith(".zip")]
    if len(zips) == 1 and len(files) == 1:
        scenario, text = load_upload(*zips[0])
        return scenario, scenario_file(zips[0][0], text, scenario)
    if len(yamls) != 1:
        msg = f"{len(yamls)} YAML files in the upload, expected exactly one"
        raise InputError(msg,
                         file=", ".join(n for n, _ in files) or "upload",
                         fix="select one scenario YAML together with its CSV files, or one zip")
    name, data = yamls[0]
    scenario, text = load_upload(name, data, extra={n: d for n, d in files if (n, d) != yamls[0]})
    return scenario, scenario_file(name, text, scenario)
