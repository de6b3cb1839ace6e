"""Finding, reading and validating yield cards; pydantic errors become one-line InputErrors."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bioplan.errors import InputError
from bioplan.paths import yield_cards_dir
from bioplan.yaml_files import read_yaml_mapping
from bioplan.yields.card import YieldCard


def list_cards() -> list[str]:
    """Names of the shipped cards (file stems in ``models/yields``), sorted."""
    folder = yield_cards_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml"))


def card_path(name_or_path: str | Path) -> Path:
    """Path of a card given as a file path or a shipped card name."""
    text = str(name_or_path)
    p = Path(text)
    if text.endswith((".yaml", ".yml")) or p.is_file():
        if not p.is_file():
            msg = "card file not found"
            raise InputError(
                msg, file=text, fix="check the path, or give a shipped card name"
            )
        return p
    shipped = yield_cards_dir() / f"{text}.yaml"
    if shipped.is_file():
        return shipped
    names = list_cards()
    close = [n for n in names if text.lower() in n.lower() or n.lower() in text.lower()]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    msg = f"unknown yield card {text!r}{hint}"
    raise InputError(
        msg,
        field="card",
        fix=f"use a card file path or one of: {', '.join(names)} (see `bioplan cards`)",
    )


def _field_path(card: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """Readable dotted path: list indices of named items become their names."""
    parts: list[str] = []
    node: Any = card
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            entry = node[item] if item < len(node) else None
            name = entry.get("name") if isinstance(entry, dict) else None
            name = name or (entry.get("factor") if isinstance(entry, dict) else None)
            name = name or (entry.get("stage") if isinstance(entry, dict) else None)
            parts.append(str(name) if name else f"[{item}]")
            node = entry
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def _fix_for(err: dict[str, Any], field: str) -> str:
    kind = err.get("type", "")
    leaf = field.rsplit(".", 1)[-1]
    if kind == "missing":
        return f"add the required field '{leaf}' (see docs/yields.md for the card format)"
    if kind == "extra_forbidden":
        return f"remove or rename '{leaf}' (a typo? see docs/yields.md for the field names)"
    if kind == "literal_error":
        return f"use one of the allowed values: {err.get('ctx', {}).get('expected', '')}"
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        return "give a number (days are whole numbers)"
    msg = str(err.get("msg", ""))
    if "no source" in msg or "[value" in msg:
        return 'write numbers as [value, "source"]'
    if "unit" in msg:
        return "use one of ng/mL, ug/mL, U/mL, uM"
    if "unknown factor" in msg:
        return "declare the factor under 'factors' or correct its spelling"
    return "correct the value as the message says"


def validate_card(data: Any, file: str) -> YieldCard:
    """Validate parsed YAML; raise one :class:`InputError` naming file, field and fix."""
    if not isinstance(data, dict):
        msg = "a card must be a YAML mapping"
        raise InputError(msg, file=file, fix="see docs/yields.md")
    try:
        return YieldCard.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        err = dict(errors[0])
        loc: tuple[int | str, ...] = tuple(exc.errors()[0]["loc"])
        field = _field_path(data, loc)
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        head, sep, rest = msg.partition(": ")
        if sep and "." in head and " " not in head:  # a model check naming its own field
            field = f"{field}.{head}" if field else head
            msg = rest
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        msg_0 = f"{msg}{more}"
        raise InputError(
            msg_0, file=file, field=field or None, fix=_fix_for(err, field)
        ) from None


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime: float) -> YieldCard:
    data = read_yaml_mapping(path, kind="yield card",
                             example="models/yields/erythroid-cb-giarratana.yaml")
    card = validate_card(data, path)
    shipped = Path(path).parent.resolve() == yield_cards_dir().resolve()
    if shipped and card.name != Path(path).stem:
        msg = f"card name {card.name!r} differs from the file name {Path(path).stem!r}"
        raise InputError(
            msg,
            file=path,
            field="name",
            fix="make 'name' equal to the file name without .yaml",
        )
    return card


def load_card(name_or_path: str | Path) -> YieldCard:
    """Load a shipped card by name (see :func:`list_cards`) or a card file by path."""
    p = card_path(name_or_path)
    return _load_cached(str(p.resolve()), p.stat().st_mtime)


def as_card(card: YieldCard | str | Path) -> YieldCard:
    """Accept a card object, a card name or a path."""
    return card if isinstance(card, YieldCard) else load_card(card)
