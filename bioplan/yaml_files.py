"""Reading the files users write (scenarios, yield cards, run configs, sweeps, CSV tables).

One place turns a missing, oversized, undecodable or unreadable file, a syntax error, a document
nested too deeply or one that is not a mapping into an :class:`~bioplan.errors.InputError` naming
the file, the line and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import yaml

from bioplan.errors import InputError

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""Largest scenario, card, config, sweep or CSV file bioplan reads [bytes] (64 MiB); a bigger
file (or a device such as ``/dev/zero``) is refused before it can fill the memory."""

MAX_NESTING = 64
"""Deepest nesting of mappings and lists accepted in a YAML file (bioplan's own files use < 8)."""


def read_text_file(path: str | Path, *, kind: str, example: str) -> str:
    """The UTF-8 text of a user's file, at most :data:`MAX_INPUT_BYTES` long.

    Parameters
    ----------
    kind : what the file is, for messages ("scenario", "demand CSV", "yield card" ...).
    example : a shipped file to start from, named in the fix.
    """
    file = Path(path)
    try:
        with file.open("rb") as fh:
            raw = fh.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        msg = f"no such {kind} file"
        raise InputError(msg, file=str(file),
                         fix=f"give the path of a {kind} file, e.g. {example}") from None
    except IsADirectoryError:
        msg = f"this is a folder, not a {kind} file"
        raise InputError(msg, file=str(file),
                         fix=f"give the path of a {kind} file inside it, e.g. {example}") from None
    except OSError as err:
        msg = f"cannot read {kind} file ({err.strerror or err})"
        raise InputError(msg, file=str(file),
                         fix="check the path and the file's permissions") from None
    if len(raw) > MAX_INPUT_BYTES:
        msg = f"{kind} file is larger than {MAX_INPUT_BYTES // 2**20} MiB"
        raise InputError(
            msg, file=str(file),
            fix=f"give a regular {kind} file (bioplan reads at most {MAX_INPUT_BYTES // 2**20} MiB)",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        msg = f"not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start})"
        raise InputError(
            msg,
            file=str(file), field=f"line {line}",
            fix="save the file as UTF-8 text (a binary or another encoding cannot be read)",
        ) from None


_SAFE_BASE: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (about 10x faster on the yield cards),
else the pure-Python one; both build the same Python objects."""


class _Loader(_SAFE_BASE):  # type: ignore[misc,valid-type]
    """Safe YAML whose impossible dates (``2027-02-30``) stay strings, so the schema reports them
    against their field instead of the YAML parser failing without a location."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except ValueError:
        return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _depth(data: Any) -> int:
    """Nesting depth of mappings/lists (iterative: a deep document cannot overflow the stack)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level > MAX_NESTING:
                return level
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _flow_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` outside quotes and comments (a quick scan, so that a file
    of ten thousand ``[`` is refused before the parser recurses into it)."""
    deepest = depth = 0
    quote = ""
    comment = False
    for ch in text:
        if comment:
            comment = ch != "\n"
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            comment = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                break
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return deepest


def parse_yaml(text: str, file: str) -> Any:
    """The document in ``text`` (from ``file``), or an InputError naming the line and the fix."""
    if _flow_depth(text) > MAX_NESTING:
        _too_deep(file)
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        if isinstance(err, yaml.reader.ReaderError):  # a control character such as NUL
            problem = f"character #x{err.character:04x} is not allowed in YAML" \
                if isinstance(err.character, int) else "undecodable character"
            msg = f"not valid YAML ({problem} at offset {err.position})"
        else:
            problem = " ".join(str(getattr(err, "problem", None) or err).split())
            msg = f"not valid YAML ({problem})"
        raise InputError(
            msg,
            file=file,
            field=f"line {mark.line + 1}, column {mark.column + 1}" if mark else None,
            fix="fix the YAML syntax at that position (indentation, a missing ':' or quote)",
        ) from None
    except RecursionError:
        data = None
        depth = MAX_NESTING + 1
    else:
        depth = _depth(data)
    if depth > MAX_NESTING:
        _too_deep(file)
    return data


def _too_deep(file: str) -> NoReturn:
    msg = f"YAML nested more than {MAX_NESTING} levels deep"
    raise InputError(msg, file=file, field="(top level)",
                     fix="flatten the document: bioplan files need a few levels")


def read_yaml_mapping(path: str | Path, *, kind: str, example: str) -> dict[str, Any]:
    """The top-level mapping of the YAML file at ``path``.

    Parameters
    ----------
    kind : what the file is, for messages ("scenario", "run config", "sweep", "yield card").
    example : a shipped file to start from, named in the fix.
    """
    file = str(path)
    data = parse_yaml(read_text_file(path, kind=kind, example=example), file)
    if not isinstance(data, dict):
        msg = f"a {kind} file must be a YAML mapping of sections"
        raise InputError(msg, file=file,
                         field="(top level)", fix=f"start from {example}")
    _check_keys(data, file)
    return data


def _check_keys(data: dict[str, Any], file: str) -> None:
    """Top-level keys are names: a number, a date or ``null`` as a key is a typo."""
    for key in data:
        if not isinstance(key, str):
            msg = f"section name {key!r} is not text"
            raise InputError(msg, file=file, field=str(key),
                             fix="write section names as words, e.g. 'horizon:'")

