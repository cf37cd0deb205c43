"""Progress reporting shared by the CLI (tqdm bars) and the viewer (st.progress).

A progress callback has the signature ``callback(stage: str, done: int, total: int)``.
``total`` may be 0 when unknown. Engine code calls it; it never prints itself.
"""

from __future__ import annotations

from typing import Callable, Protocol


class Progress(Protocol):
    def __call__(self, stage: str, done: int, total: int) -> None: ...


def null_progress(stage: str, done: int, total: int) -> None:  # noqa: ARG001
    return None


class TqdmProgress:
    """One tqdm bar per stage, written to stderr."""

    def __init__(self, disable: bool = False):
        self.disable = disable
        self._bar = None
        self._stage = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm  # loaded only when a terminal bar is drawn (not by the viewer)

        if stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = tqdm(total=total or None, desc=stage, disable=self.disable, leave=True,
                             dynamic_ncols=True)
        bar = self._bar
        if total and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._stage = None


ProgressFn = Callable[[str, int, int], None]
