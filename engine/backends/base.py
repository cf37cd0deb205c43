"""The backend protocol and how users are cut into shards.

Shards are contiguous runs of the test users, in the order the local backend scores them,
always cut at multiples of ``batch`` (the pipeline's ``RECOMMEND_BATCH``): each shard then
makes exactly the ``recommend`` calls the local backend makes (BLAS may round a product
differently with the number of rows in a call: measured, 2e-7 on ALS scores when cut
elsewhere), so the lists are identical position by position, and concatenating the
shards in order gives the local frame back.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, Sequence

from engine.progress import ProgressFn, null_progress


class Backend(Protocol):
    name: str
    #: shard tasks re-run after a worker died, summed over this backend's life
    retries: int
    #: the number of workers (CPU slots) that run shards at once
    parallelism: int
    #: users per shard (None: chosen from ``parallelism``)
    shard_users: int | None

    def map(self, fn: Callable[..., Any], items: Sequence[Any], *, shared: dict | None = None,
            stage: str = "map", progress: ProgressFn = null_progress) -> list[Any]: ...

    def close(self) -> None: ...


#: Shards per worker when the shard size is not given: a few, so that a slow or
#: restarted worker does not hold the others up, few enough that the per-task cost
#: (one round trip, a frame to return) stays small.
SHARDS_PER_WORKER = 4


def shard_slices(n: int, *, batch: int, parallelism: int = 1,
                 shard_users: int | None = None) -> list[tuple[int, int]]:
    """[(start, stop), ...] covering range(n) in order."""
    if n <= 0:
        return []
    if shard_users is None:
        # one worker (the local backend): one shard, exactly today's recommend calls
        want = 1 if int(parallelism) <= 1 else int(parallelism) * SHARDS_PER_WORKER
        size = -(-n // want)
    else:
        size = max(1, int(shard_users))
    size = -(-size // batch) * batch  # whole batches: the local backend's recommend calls
    return [(start, min(start + size, n)) for start in range(0, n, size)]
