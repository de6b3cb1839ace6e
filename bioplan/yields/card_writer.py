"""Writing cards back to YAML (after calibration), numbers as ``[value, "source"]``, and writing a
fitted value into a card's data at its parameter path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bioplan.errors import InputError
from bioplan.yields.card import YieldCard

HEADER = """\
# Yield-model card (format: docs/yields.md). Every number is [value, "source"]; sources point to
# rows of shared/literature/published-figures.md (PF) with their provenance flag, or say
# "assumption:" / "calibrated:". Flags: [R] read, [R2] secondary, [R-low] low quality,
# [M] unverified general knowledge, [D] derived. Written by bioplan.yields.card_writer.dump_card.
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


def set_parameter(data: dict, path: str, value: float, note: str) -> None:
    """Write ``value`` into the card dict at parameter ``path`` (source marked calibrated)."""
    parts = path.split(".")
    src = f"calibrated: {note}"

    def put(holder: dict, key: str) -> None:
        old = holder[key]
        old_src = old["source"] if isinstance(old, dict) else str(old[1])
        if not old_src.startswith("calibrated"):
            src_full = f"{src} (prior: {old_src})"
        else:
            src_full = old_src.split(" (prior:")[0]
            src_full = src + (old_src[len(src_full) :] if "(prior:" in old_src else "")
        holder[key] = {"value": float(value), "source": src_full}

    if parts[0] == "stages":
        stage = next(s for s in data["stages"] if s["name"] == parts[1])
        if len(parts) == 3:
            put(stage, parts[2])
        elif parts[2] == "transit_to":
            tt = stage["transit_to"]
            old0 = float(tt[0]["fraction"]["value"])
            put(tt[0], "fraction")
            rest = 1.0 - old0
            for other in tt[1:]:
                share = (
                    float(other["fraction"]["value"]) / rest if rest > 0 else 1.0 / (len(tt) - 1)
                )
                put(other, "fraction")
                other["fraction"]["value"] = (1.0 - float(value)) * share
        else:
            factor, effect, what = parts[2], parts[3], parts[4]
            resp = next(
                r for r in stage["responses"] if r["factor"] == factor and r["effect"] == effect
            )
            put(resp, what)
    elif parts[0] == "platelets":
        pr = data["platelet_release"]
        if parts[1] == "shear":
            put(pr["shear_multiplier"], parts[2])
        else:
            put(pr, parts[1])
    elif parts[0] == "density":
        put(data["density_effect"], parts[1])
    elif parts[0] == "seed":
        seed = data["seed"]
        old = float(seed[parts[1]]["value"])
        put(seed, parts[1])
        for other, num in seed.items():
            if other != parts[1]:
                scale = (1.0 - float(value)) / (1.0 - old) if old < 1 else 0.0
                seed[other] = {"value": float(num["value"]) * scale, "source": num["source"]}
    else:
        msg = f"calibration parameter {path!r} is a protocol setting, not a model rate"
        raise InputError(
            msg,
            field="calibration.parameters",
            fix="fit stage, platelet, density or seed parameters only",
        )
