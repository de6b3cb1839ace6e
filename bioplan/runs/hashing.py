"""Input hashing and version capture for reproducible, idempotent runs."""

from __future__ import annotations

import hashlib
import json
import math
from importlib import metadata
from pathlib import Path
from typing import Any


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no whitespace and non-finite floats as strings: equal inputs give
    byte-identical text."""
    return json.dumps(_clean(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, Path):
        return str(value)
    return value


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def inputs_hash(
    *,
    scenario: dict[str, Any],
    demand_sha256: str | None,
    options: dict[str, Any],
    versions: dict[str, Any],
    name: str,
) -> str:
    """SHA-256 over everything that decides a run's result.

    ``scenario`` is the validated scenario as JSON data (``json.loads(Scenario.model_dump_json())``), which
    already contains the demand as loaded; ``demand_sha256`` adds the demand file's bytes so a
    refreshed file always counts as new input. ``options`` are the solver and rolling-horizon
    options, ``versions`` those of bioplan, Pyomo and HiGHS, ``name`` the plan line.
    """
    payload = {
        "scenario": scenario,
        "demand_sha256": demand_sha256,
        "options": options,
        "versions": versions,
        "name": name,
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def software_versions() -> dict[str, str | None]:
    """Versions of bioplan, Pyomo, highspy and the HiGHS library it wraps, and Python."""
    import platform

    versions: dict[str, str | None] = {
        "bioplan": _dist_version("bioplan"),
        "pyomo": _dist_version("pyomo"),
        "highspy": _dist_version("highspy"),
        "highs": None,
        "python": platform.python_version(),
    }
    try:
        from bioplan.optimisation.quiet_highs import quiet_highs

        h = quiet_highs()
        versions["highs"] = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    except Exception:  # pragma: no cover - highspy without the version API
        versions["highs"] = versions["highspy"]
    return versions
