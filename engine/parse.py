"""Comma-separated numbers typed by a person, on the command line or in the app
(``--arms 0.04,0.05``, "Arm rates" on the Bandits page): parsed once, here, so that both
say the same sentence about a bad value.

Empty entries are skipped ("0.1,,0.2" is two numbers); anything else that is not a
number raises ``DataError`` naming ``what`` and the text given.
"""

from __future__ import annotations

from engine.errors import DataError


def parse_floats(text: str, what: str) -> list[float]:
    """[0.04, 0.05] from "0.04, 0.05"; DataError when an entry is not a number or none is given."""
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise DataError(f"{what} must be comma-separated numbers, e.g. 0.04,0.05; got {text!r}.") from None
    if not vals:
        raise DataError(f"{what} is empty.")
    return vals


def parse_ints(text: str, what: str) -> list[int]:
    """[3, 4] from "3,4"; DataError when an entry is not a whole number."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise DataError(f"{what} must be comma-separated integers; got {text!r}.") from None
