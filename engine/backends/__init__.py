"""Where the fan-out work of a train runs: in this process (``local``) or on a Ray cluster (``ray``).

A backend maps one pure function over a list of items and returns the results in item
order: ``backend.map(fn, items, shared={...}, stage=..., progress=...)`` calls
``fn(item, **shared)`` for each item. ``shared`` values (a fitted model, the training
matrix, the test frame) reach each worker once (Ray's object store; the local backend
just passes them). The functions mapped are pure (no store): only the driver writes the
store, in one transaction per run, so DuckDB's single-writer rule holds.

What is mapped today: ``engine.pipeline.score_shard`` over user shards (top-K lists and
per-user metrics of one shard: a single run); and, on Ray, ``backend.pool(fn, shared=...)``
(submit one task at a time, collect each as it finishes): ``recscope tune --backend ray``
runs its trials with it (``engine.services.tuning._run_remote``, ask-and-tell), and
``engine.pipeline.fan_out_runs`` runs several whole runs (the algorithms of one train,
the (fold, algorithm) runs of ``--folds``) as one task each: ``compute_run`` (fit, score,
evaluate; returns the frames, touches no store) on a worker, ``create_run`` before and
``store_output`` after on the driver. ``pipeline.fans_out(backend, n_runs)`` says which:
a backend with ``pool`` and more than one run.

``make_backend(name, address=None, ...)`` builds one; ``--backend ray`` without Ray
installed, or with an address that cannot be reached, raises ``DataError`` (one
sentence, exit 2) before any run row exists.
"""

from __future__ import annotations

from engine.backends.base import Backend, shard_slices
from engine.backends.local import LocalBackend
from engine.errors import DataError

#: The backends ``--backend`` accepts.
BACKENDS = ("local", "ray")


def make_backend(name: str = "local", *, address: str | None = None,
                 spill_dir: str | None = None, max_retries: int = 3,
                 shard_users: int | None = None) -> Backend:
    """A ready backend (connected, for Ray). ``address``: a Ray cluster's GCS address
    (``host:port``, or ``auto``); none starts a local Ray cluster for this process."""
    if name == "local":
        if address is not None:
            raise DataError("--ray-address needs --backend ray; the local backend runs in "
                            "this process.")
        return LocalBackend(shard_users=shard_users)
    if name == "ray":
        from engine.backends.raybackend import RayBackend

        return RayBackend(address=address, spill_dir=spill_dir, max_retries=max_retries,
                          shard_users=shard_users)
    raise DataError(f"Unknown backend {name!r}; expected one of {', '.join(BACKENDS)}.")


__all__ = ["BACKENDS", "Backend", "LocalBackend", "make_backend", "shard_slices"]
