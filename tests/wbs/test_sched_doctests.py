"""The examples in the scheduling modules' docstrings run."""

import doctest

import pytest

import wbs.scheduling.calendars
import wbs.scheduling.cpm


@pytest.mark.parametrize("module", [wbs.scheduling.calendars, wbs.scheduling.cpm])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
