"""Validation errors split by field, so the dashboard shows each one beside its field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bioplan.errors import BioplanError


@dataclass(frozen=True)
class FieldProblem:
    """One validation problem: ``field`` is a dotted path (``reactors.rocking-50L.turnaround_days``)."""

    field: str
    message: str

    @property
    def section(self) -> str:
        """The top-level scenario section the field belongs to (``reactors``, ``demand`` ...)."""
        return self.field.split(".", 1)[0] if self.field else ""


_BULLET = re.compile(r"^\s*-\s+(?P<field>[^:]+):\s+(?P<msg>.*)$")


def field_problems(err: BioplanError) -> list[FieldProblem]:
    """Split an :class:`InputError` (possibly a bulleted multi-problem one) into field problems."""
    fix = f" Fix: {err.fix}" if err.fix else ""
    bullets = [m for line in err.message.splitlines() if (m := _BULLET.match(line))]
    if bullets:
        return [FieldProblem(m["field"].strip(), m["msg"].strip()) for m in bullets]
    return [FieldProblem(err.field or "", f"{err.message.rstrip('.')}.{fix}" if fix else err.message)]
