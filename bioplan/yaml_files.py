"""Reading the YAML files users write (scenarios, yield cards, run configs, sweeps).

One place turns a missing file, a syntax error or a document that is not a mapping into an
:class:`~bioplan.errors.InputError` naming the file, the line and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bioplan.errors import InputError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (about 10x faster on the yield cards),
else the pure-Python one; both build the same Python objects."""


def read_yaml_mapping(path: str | Path, *, kind: str, example: str) -> dict[str, Any]:
    """The top-level mapping of the YAML file at ``path``.

    Parameters
    ----------
    kind : what the file is, for messages ("scenario", "run config", "sweep", "yield card").
    example : a shipped file to start from, named in the fix.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no such {kind} file", file=str(file),
                         fix=f"give the path of a {kind} YAML, e.g. {example}") from None
    except OSError as err:
        raise InputError(f"cannot read {kind} file ({err.strerror})", file=str(file)) from None
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(
            f"not valid YAML ({getattr(err, 'problem', None) or err})",
            file=str(file),
            field=f"line {mark.line + 1}, column {mark.column + 1}" if mark else None,
            fix="fix the YAML syntax at that position (indentation, a missing ':' or quote)",
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"a {kind} file must be a YAML mapping of sections", file=str(file),
                         fix=f"start from {example}")
    return data
