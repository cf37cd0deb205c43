"""Where recscope runs from: a clone (source tree) or an installed package.

- ``source_root()`` is the clone's top folder when this code runs from a source tree
  (a ``pyproject.toml`` naming recscope beside ``engine/``), else None (a wheel install).
- ``user_data_dir()`` is the per-user data folder used by an installed copy:
  ``$XDG_DATA_HOME/recscope``, else ``~/.local/share/recscope`` (the XDG base-directory
  rule, written out here rather than adding a dependency for two lines).
- ``git_hash()`` is the short commit of a clone, or None.
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

_TOP = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def source_root() -> Path | None:
    pyproject = _TOP / "pyproject.toml"
    try:
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    return _TOP if 'name = "recscope"' in text else None


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    # The XDG spec says a relative $XDG_DATA_HOME is invalid and must be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "recscope"


@lru_cache(maxsize=1)
def git_hash() -> str | None:
    root = source_root()
    if root is None or not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None
