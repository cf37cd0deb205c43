"""The Ray backend: shards run as Ray tasks on a cluster (``ray start`` nodes, KubeRay...).

- Connects with ``ray.init(address=...)`` (no address: a local Ray cluster for this
  process). An unreachable address or a missing ``ray`` package raises ``DataError``
  naming it, before any run row exists.
- ``map``: the ``shared`` values are put in the object store once (``ray.put``) and
  passed by reference, so each worker fetches the model and the matrix once per node;
  each item is one task (``max_retries``: a task whose worker died is re-run by Ray).
- Retries are counted by a tiny attempts actor (0 CPUs): every task attempt checks in
  before it works, so a shard seen twice was retried; ``retries`` sums them (Ray itself
  does not tell a driver how often it retried a task without its dashboard).
- ``spill_dir``: when set, tasks that return frames write them as Parquet files there
  (a folder on storage shared by all nodes) and return the paths; the driver reads them
  back (``read_spilled``). Without it the frames travel as Arrow through Ray's object
  store.
"""

from __future__ import annotations

import os
import shutil
import uuid
from typing import Any, Callable, Sequence

from engine.errors import DataError
from engine.progress import ProgressFn, null_progress

INSTALL_HINT = ("--backend ray needs the Ray package, which is not installed; install it "
                "with `pip install 'recscope[ray]'` (or `pip install -e '.[ray]'` in a clone).")


def _import_ray():
    try:
        import ray
    except ImportError:
        raise DataError(INSTALL_HINT) from None
    return ray


#: Seconds to wait for the head's port to answer before saying it cannot be reached
#: (``ray.init`` itself retries an unreachable address for minutes).
CONNECT_TIMEOUT = 10.0


def _check_reachable(address: str) -> None:
    """One TCP connection to the address's host:port, or ``DataError`` naming it."""
    import socket

    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    try:
        port_n = int(port)
    except ValueError:
        raise DataError(f"--ray-address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, as "
                        f"printed by `ray start --head`).") from None
    try:
        socket.create_connection((host or "127.0.0.1", port_n), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise DataError(f"Could not reach the Ray cluster at {address} ({exc.strerror or exc}); "
                        f"start it with `ray start --head` there or correct --ray-address."
                        ) from None


class RayBackend:
    name = "ray"

    def __init__(self, address: str | None = None, *, spill_dir: str | None = None,
                 max_retries: int = 3, shard_users: int | None = None):
        ray = _import_ray()
        self._ray = ray
        self.address = address
        self.spill_dir = spill_dir
        self.max_retries = int(max_retries)
        self.shard_users = shard_users
        self.retries = 0
        self._owns = False
        if not ray.is_initialized():
            if address and address != "auto":
                _check_reachable(address)
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False,
                         configure_logging=False, ignore_reinit_error=True)
            except Exception as exc:  # ConnectionError, RuntimeError, TimeoutError...
                where = address or "a new local Ray cluster"
                raise DataError(f"Could not reach the Ray cluster at {where} "
                                f"({type(exc).__name__}); check --ray-address (host:port of "
                                f"the head's GCS, as printed by `ray start --head`).") from None
            self._owns = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.parallelism = max(1, cpus)
        self._log = None

    # -- retries -----------------------------------------------------------------------
    def _attempts(self):
        if self._log is None:
            ray = self._ray

            @ray.remote(num_cpus=0)
            class Attempts:
                def __init__(self):
                    self.seen: dict = {}

                def start(self, key):
                    self.seen[key] = self.seen.get(key, 0) + 1
                    return self.seen[key]

                def retries(self, prefix):
                    return sum(n - 1 for k, n in self.seen.items() if k[0] == prefix)

                def count(self, key):
                    return self.seen.get(key, 0)

                def total(self):
                    return sum(self.seen.values())

            self._log = Attempts.remote()
        return self._log

    # -- map ---------------------------------------------------------------------------
    def map(self, fn: Callable[..., Any], items: Sequence[Any], *, shared: dict | None = None,
            stage: str = "map", progress: ProgressFn = null_progress) -> list[Any]:
        ray = self._ray
        log = self._attempts()
        job = uuid.uuid4().hex[:12]
        refs = {name: ray.put(value) for name, value in (shared or {}).items()}
        fn_ref = ray.put(fn)
        spill = None
        if self.spill_dir:
            spill = os.path.join(self.spill_dir, f"recscope-{job}")
            os.makedirs(spill, exist_ok=True)
        task = _task.options(max_retries=self.max_retries, retry_exceptions=False,
                             name=getattr(fn, "__name__", "task"))
        pending = [task.remote(fn_ref, item, log, (job, i), spill, **refs)
                   for i, item in enumerate(items)]
        index = {ref: i for i, ref in enumerate(pending)}
        out: list[Any] = [None] * len(pending)
        progress(stage, 0, len(pending))
        done = 0
        waiting = list(pending)
        try:
            while waiting:
                ready, waiting = ray.wait(waiting, num_returns=1)
                for ref in ready:
                    out[index[ref]] = ray.get(ref)
                    done += 1
                progress(stage, done, len(pending))
            self.retries += int(ray.get(log.retries.remote(job)))
            if spill is not None:
                out = [read_spilled(r) for r in out]
        except BaseException:
            for ref in waiting:  # a shard failed for good (or an interrupt): stop the rest
                ray.cancel(ref, force=True)
            raise
        finally:
            if spill is not None:  # the driver has read what it needs; nothing stays behind
                shutil.rmtree(spill, ignore_errors=True)
        return out

    def pool(self, fn: Callable[..., Any], *, shared: dict | None = None) -> "RayPool":
        """Tasks submitted one by one and collected as they finish (``RayPool``): what an
        ask-and-tell tuner needs, where ``map`` waits for a whole list in order."""
        return RayPool(self, fn, shared or {})

    def close(self) -> None:
        if self._log is not None:
            try:
                self._ray.kill(self._log)
            except Exception:  # noqa: BLE001 - a gone cluster has nothing left to free
                pass
            self._log = None
        if self._owns:
            self._ray.shutdown()
            self._owns = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RayPool:
    """Submit ``fn(item, **shared)`` as Ray tasks one at a time; ``next_done()`` blocks
    until one finishes and returns ``(key, value, error)`` (``error``: the exception the
    function raised, or the Ray error that ended the task for good, e.g. a worker that
    died more than ``max_retries`` times; else None). ``shared`` is put in the object
    store once; ``put(value)`` puts one more value there, to pass to ``submit`` as an
    extra keyword (a fold's split, shared by that fold's tasks only). Task attempts check
    in with the backend's attempts actor, so retries are counted as in ``map``
    (``attempts(key)``: how often one task ran). With the backend's ``spill_dir``, frames
    come back as Parquet files there, read and removed by ``next_done``."""

    def __init__(self, backend: RayBackend, fn, shared: dict):
        ray = backend._ray
        self._backend = backend
        self._ray = ray
        self._log = backend._attempts()
        self._job = uuid.uuid4().hex[:12]
        self._refs = {name: ray.put(value) for name, value in shared.items()}
        self._fn = ray.put(fn)
        self._task = _task.options(max_retries=backend.max_retries, retry_exceptions=False,
                                   name=getattr(fn, "__name__", "task"))
        self._running: dict = {}  # ObjectRef -> key
        self._numbers: dict = {}  # key -> the task's number (its attempts-actor key)
        self._n = 0
        self._spill = None
        if backend.spill_dir:
            self._spill = os.path.join(backend.spill_dir, f"recscope-{self._job}")
            os.makedirs(self._spill, exist_ok=True)

    @property
    def running(self) -> int:
        return len(self._running)

    def put(self, value):
        """``value`` in the object store once; pass the reference to ``submit``."""
        return self._ray.put(value)

    def submit(self, key, item, **extra) -> None:
        ref = self._task.remote(self._fn, item, self._log, (self._job, self._n), self._spill,
                                **self._refs, **extra)
        self._numbers[key] = self._n
        self._n += 1
        self._running[ref] = key

    def attempts(self, key) -> int:
        """How many times the task submitted under ``key`` started (1: no retry)."""
        n = self._numbers.get(key)
        if n is None:
            return 0
        return int(self._ray.get(self._log.count.remote((self._job, n))))

    def next_done(self):
        ray = self._ray
        ready, _ = ray.wait(list(self._running), num_returns=1)
        ref = ready[0]
        key = self._running.pop(ref)
        try:
            value = ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the function raised: its own error
            cause = getattr(exc, "cause", None)
            return key, None, cause if isinstance(cause, BaseException) else exc
        except ray.exceptions.RayError as exc:  # the task ended for good (worker died...)
            return key, None, exc
        if self._spill is not None:
            value = read_spilled(value, remove=True)
        return key, value, None

    def close(self) -> None:
        """Cancel what still runs (an interrupt) and add up this pool's retries."""
        for ref in list(self._running):
            self._ray.cancel(ref, force=True)
        self._running.clear()
        try:
            self._backend.retries += int(self._ray.get(self._log.retries.remote(self._job)))
        except Exception:  # noqa: BLE001 - a gone cluster has no count to give
            pass
        if self._spill is not None:
            shutil.rmtree(self._spill, ignore_errors=True)
            self._spill = None


def _spill(value, folder: str, key) -> Any:
    """Frames in ``value`` (a frame, a tuple of them, or a dataclass with frame fields,
    such as ``engine.pipeline.RunOutput``) written as Parquet; their paths back."""
    import dataclasses

    import pandas as pd

    if isinstance(value, pd.DataFrame):
        path = os.path.join(folder, f"{key[1]:06d}-{uuid.uuid4().hex[:8]}.parquet")
        value.to_parquet(path, index=False)
        return ("parquet", path)
    if isinstance(value, tuple):
        return tuple(_spill(v, folder, key) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: _spill(getattr(value, f.name), folder, key)
            for f in dataclasses.fields(value) if isinstance(getattr(value, f.name), pd.DataFrame)})
    return value


def read_spilled(value, remove: bool = False) -> Any:
    """``_spill`` undone: the frames read back (and their files removed when ``remove``)."""
    import dataclasses

    import pandas as pd

    if isinstance(value, tuple) and len(value) == 2 and value[0] == "parquet":
        frame = pd.read_parquet(value[1])
        if remove:
            os.remove(value[1])
        return frame
    if isinstance(value, tuple):
        return tuple(read_spilled(v, remove) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: read_spilled(getattr(value, f.name), remove)
            for f in dataclasses.fields(value) if isinstance(getattr(value, f.name), tuple)})
    return value


def _task_body(fn, item, log, key, spill, **shared):
    import ray

    # as many scoring threads as CPUs Ray gave this task (engine.recommend.topk), not
    # one per core of the node: the node's other workers use the other cores
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
    if cpus:
        os.environ["RECSCOPE_THREADS"] = str(max(1, int(cpus)))
    ray.get(log.start.remote(key))  # checked in: a second check-in means a retry
    value = fn(item, **shared)
    return _spill(value, spill, key) if spill else value


try:  # defined at import when Ray is there; RayBackend refuses earlier when it is not
    import ray as _ray_mod

    _task = _ray_mod.remote(_task_body)
except ImportError:  # pragma: no cover - the install hint is raised by RayBackend
    _task = None
