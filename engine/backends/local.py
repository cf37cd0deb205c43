"""The local backend: shards run one after another in this process (today's behaviour;
``engine.recommend.topk`` already spreads each batch over this machine's cores)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from engine.progress import ProgressFn, null_progress


class LocalBackend:
    name = "local"
    retries = 0
    parallelism = 1

    def __init__(self, shard_users: int | None = None):
        self.shard_users = shard_users

    def map(self, fn: Callable[..., Any], items: Sequence[Any], *, shared: dict | None = None,
            stage: str = "map", progress: ProgressFn = null_progress) -> list[Any]:
        out = []
        progress(stage, 0, len(items))
        for i, item in enumerate(items):
            out.append(fn(item, **(shared or {})))
            progress(stage, i + 1, len(items))
        return out

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
