"""engine.parse: comma-separated numbers, shared by the CLI and the Bandits page."""

import pytest

from engine.errors import DataError
from engine.parse import parse_floats, parse_ints


def test_floats_skip_empty_entries_and_spaces():
    assert parse_floats("0.04, 0.05,,0.045 ", "Arm rates") == [0.04, 0.05, 0.045]


def test_a_bad_entry_is_named_with_the_field_and_the_text():
    with pytest.raises(DataError, match=r"Arm rates must be comma-separated numbers.*'0.1, high'"):
        parse_floats("0.1, high", "Arm rates")
    with pytest.raises(DataError, match="--prior is empty"):
        parse_floats(" , ", "--prior")
    with pytest.raises(DataError, match="--runs must be comma-separated integers"):
        parse_ints("1,x", "--runs")


def test_ints():
    assert parse_ints("3, 4", "--runs") == [3, 4]
