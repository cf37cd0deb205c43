"""What a ``--db`` may be: an existing DuckDB file, or a path where a new one can go.

Anything else (a folder, an empty file, a device such as /dev/null, a text or CSV file)
is refused with one sentence before DuckDB opens it: DuckDB would raise an obscure
error, or, for a CSV, open it as a temporary view so that writes vanish.
A DuckDB file is recognised by its magic bytes ``DUCK`` at offset 8 of its header.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from engine.errors import DataError

_MAGIC = b"DUCK"
_HINT = "a --db must be a DuckDB file or a new path"


def check_db_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        parent = p.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            raise DataError(f"The store {p} cannot be created: {parent} is a file, not a "
                            f"folder; {_HINT}.")
        return p
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise DataError(f"The store {p} cannot be read ({exc.strerror}); {_HINT}.") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"The store {p} is a folder; {_HINT}.")
    if not stat.S_ISREG(mode):
        raise DataError(f"The store {p} is not a regular file; {_HINT}.")
    try:
        with open(p, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise DataError(f"The store {p} cannot be read ({exc.strerror}); {_HINT}.") from None
    if not head:
        raise DataError(f"The store {p} is an empty file; {_HINT} (delete the file to start "
                        f"a new store there).")
    if head[8:12] != _MAGIC:
        raise DataError(f"The store {p} is not a DuckDB file (a text or CSV file?); {_HINT}.")
    return p
