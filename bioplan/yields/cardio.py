"""Writing cards back to YAML (after calibration), numbers as ``[value, "source"]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bioplan.yields.card import YieldCard

HEADER = """\
# Yield-model card (format: docs/yields.md). Every number is [value, "source"]; sources point to
# rows of shared/literature/published-figures.md (PF) with their provenance flag, or say
# "assumption:" / "calibrated:". Flags: [R] read, [R2] secondary, [R-low] low quality,
# [M] unverified general knowledge, [D] derived. Written by bioplan.yields.cardio.dump_card.
"""


class _Pair(list):  # type: ignore[type-arg]
    """A [value, source] pair, emitted in flow style."""


class _Flow(list):  # type: ignore[type-arg]
    """A short list (a range), emitted in flow style."""


class _Dumper(yaml.SafeDumper):
    pass


def _pair(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=True)


def _float(dumper: yaml.SafeDumper, value: float) -> yaml.Node:
    """Large and tiny numbers in scientific notation that YAML reads back as floats (1.0e+11)."""
    if value != value or value in (float("inf"), float("-inf")):
        return dumper.represent_float(value)
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
        mant, exp = f"{value:.9e}".split("e")
        mant = mant.rstrip("0")
        mant = mant + "0" if mant.endswith(".") else mant
        return dumper.represent_scalar("tag:yaml.org,2002:float", f"{mant}e{int(exp):+d}")
    return dumper.represent_float(value)


_Dumper.add_representer(_Pair, _pair)
_Dumper.add_representer(float, _float)
_Dumper.add_representer(_Flow, _pair)


def _compact(node: Any) -> Any:
    if isinstance(node, dict):
        if set(node) == {"value", "source"}:
            v = node["value"]
            v = int(v) if float(v).is_integer() and abs(v) < 1e6 else float(f"{v:.10g}")
            return _Pair([v, node["source"]])
        return {k: _compact(v) for k, v in node.items() if v not in (None, [], {}, "")}
    if isinstance(node, tuple):
        return _Flow([_compact(v) for v in node])
    if isinstance(node, list):
        return [_compact(v) for v in node]
    if isinstance(node, float):
        return float(f"{node:.8g}")
    return node


def card_yaml(card: YieldCard) -> str:
    """The card as YAML text."""
    data = _compact(card.model_dump(mode="python", exclude_defaults=False))
    for st in data.get("stages", []):  # drop flags at their defaults to keep cards short
        if st.get("committed") is True:
            st.pop("committed")
        if st.get("product") is False:
            st.pop("product")
        if st.get("is_cell") is True:
            st.pop("is_cell")
    for r in [r for st in data.get("stages", []) for r in st.get("responses", [])]:
        if r.get("mode") == "activates":
            r.pop("mode")
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


def dump_card(card: YieldCard, path: str | Path) -> Path:
    """Write ``card`` to ``path`` (atomically) and return the path."""
    p = Path(path)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(card_yaml(card), encoding="utf-8")
    tmp.replace(p)
    return p
