"""The examples in the yields docstrings run and give what they show."""

from __future__ import annotations

import doctest

import pytest

from bioplan.yields import dose_response, recipes, variability


@pytest.mark.parametrize("module", [dose_response, recipes, variability])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
