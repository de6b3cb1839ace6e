"""Hypothesis strategies that break the shipped files the way a hostile user would.

A document (a parsed YAML mapping) is mutated at a random path: a value replaced by a hostile one
(wrong type, infinite, huge, negative, an impossible date, deep nesting ...), a key deleted, an
unknown key added, or a key misspelt. Text is mutated byte-wise (undecodable bytes, truncation).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from hypothesis import strategies as st

HOSTILE_SCALARS: list[Any] = [
    None, "", "abc", "2027-02-30", "inf", "-inf", "nan", "1e308", -1, 0, 1, -1.5, 1e308,
    float("inf"), float("-inf"), float("nan"), 10**30, True, False, 123, 0.5, "ünïcødé",
    dt.date(2027, 1, 4), "../../etc/passwd", "x" * 300,
]

hostile_value = st.one_of(
    st.sampled_from(HOSTILE_SCALARS),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.sampled_from([1, "a", None, -1.0]), max_size=3),
    st.dictionaries(st.sampled_from(["a", "bad", "1"]), st.sampled_from([1, "x", None]), max_size=2),
    st.integers(min_value=70, max_value=200).map(lambda n: _nested(n)),
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (tuple of keys / list indices) into ``doc``, the root excluded."""
    out: list[tuple[Any, ...]] = []
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    for key, value in children:
        here = (*prefix, key)
        out.append(here)
        if len(out) < 2000:
            out.extend(paths(value, here))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    node = doc
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def mutated(draw: st.DrawFn, doc: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of ``doc`` with one to three random mutations (``skip``: top-level keys left alone,
    e.g. the big inline demand records)."""
    out = copy.deepcopy(doc)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        candidates = [p for p in paths(out) if not (p and p[0] in skip and len(p) > 1)]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = _parent(out, path)
        key = path[-1]
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "rename"]))
        if action == "replace":
            parent[key] = draw(hostile_value)
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "units_ownd", "Days", "1"]))] = draw(hostile_value)
        elif action == "rename" and isinstance(parent, dict) and isinstance(key, str):
            parent[key + draw(st.sampled_from(["_", "s", "X"]))] = parent.pop(key)
    return out


@st.composite
def mutated_bytes(draw: st.DrawFn, text: bytes) -> bytes:
    """``text`` with bytes inserted, deleted or overwritten, or truncated."""
    data = bytearray(text)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        pos = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["insert", "overwrite", "truncate", "delete"]))
        chunk = draw(st.sampled_from([b"\xff", b"\x00", b"\xc3", b":", b"[", b"{", b"\t", b"\n  ",
                                      b"'", b"&a", b"*a", b"!!python/object:os.system", b"---\n"]))
        if action == "insert":
            data[pos:pos] = chunk
        elif action == "overwrite":
            data[pos:pos + len(chunk)] = chunk
        elif action == "truncate":
            del data[pos:]
        else:
            del data[pos:pos + draw(st.integers(min_value=1, max_value=20))]
    return bytes(data)
