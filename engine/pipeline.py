"""dataset -> split -> fit -> recommend -> evaluate -> store, with progress.

``train_runs`` is what ``recscope train``, the demo and the viewer call: it prepares the
split once (``prepare_split``: the split, its user and item ``IdMap``s and the training
matrix) and maps ``train_one`` (one algorithm on one split, stored) over the algorithms;
a tuner or a distributed backend can map ``train_one`` itself. ``train_one`` is
``create_run`` + ``compute_run`` (fit, score, evaluate: pure, no store) +
``store_output`` (health checks, one transaction); on a Ray backend several runs go out
as one task each (``fan_out_runs``: ``compute_run`` on a worker, the two store calls
here), a single run fans its scoring out over user shards (``score_users``). Each algorithm
becomes one immutable run: its row is created (status 'running') before training, and
its lists, metrics and timings are written in one transaction at the end. An algorithm
that fails (EASE refusing a large catalogue, say) leaves a 'failed' run with its reason
and the other algorithms carry on.

Progress stages: ``split``, ``fit <algo>``, ``recommend <algo>``, ``evaluate <algo>``,
``neighbours <algo>`` (algorithms whose registry entry says ``similar_items``: each training item's top
``N_NEIGHBOURS`` similar items, kept for the Item page), ``store``.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.backends import Backend, LocalBackend, shard_slices
from engine.data.dataset import IdMap
from engine.errors import DataError, RecscopeError
from engine.progress import ProgressFn, null_progress
from engine.recommend import registry
from engine.recommend.matrix import build_matrix
from engine.services.health import check as health_check
from engine.store import Store
from engine.store import runs as store_runs
from engine.store.datasets import load_dataset

#: K values every run is evaluated at (plus the run's own k when different).
EVAL_KS = (10, 20)
#: Users scored per recommend call (bounds memory; one progress tick per batch).
RECOMMEND_BATCH = 2048
#: Neighbours kept per training item for the models that can say (``AlgoSpec.similar_items``).
N_NEIGHBOURS = 20
#: Query items per similar_items call for factor models (topk chunks them itself);
#: score-block models (kNN, EASE) take as many as fit a ~16 MB dense block.
NEIGHBOUR_BATCH = 4096
#: Split parameters a request may carry, with make_split's defaults.
SPLIT_DEFAULTS = {"n": 1, "fraction": 0.2, "cut": None, "min_history": 2}
SPLIT_METHODS = ("auto", "leave_last_n", "random", "time_cut")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """engine.__version__ plus the git short hash when the code sits in a git checkout."""
    from engine import __version__
    from engine.paths import git_hash

    # A clone only: an installed copy may sit in some other project's git folder (a venv).
    h = git_hash()
    return f"{__version__}+g{h}" if h else __version__


def eval_ks(k: int) -> list[int]:
    return sorted({*EVAL_KS, int(k)})


def positives(interactions: pd.DataFrame, min_weight: float | None, dataset: str = "") -> pd.DataFrame:
    """Interactions whose weight is at least ``min_weight`` (all when None)."""
    if min_weight is None:
        return interactions
    out = interactions[interactions["weight"] >= float(min_weight)].reset_index(drop=True)
    if out.empty:
        raise DataError(f"No interaction of dataset {dataset!r} has weight >= {min_weight} "
                        f"(--min-weight); the largest weight is {interactions['weight'].max()}.")
    return out


def _cut(cut):
    """A time cut as a quantile float in (0, 1) or an ISO timestamp text (stable for reuse)."""
    try:
        q = float(cut)
    except (TypeError, ValueError):
        q = None
    if q is not None and 0 < q < 1:
        return q
    if q is not None:
        raise DataError(f"--time-cut {cut!r} is a number outside (0, 1); give a quantile of "
                        f"event times in (0, 1) (e.g. 0.8) or a date (e.g. 2024-01-31).")
    try:
        return pd.Timestamp(cut).isoformat()
    except (TypeError, ValueError):
        raise DataError(f"--time-cut {cut!r} is neither a date or time (e.g. 2024-01-31 or "
                        f"2024-01-31T12:00) nor a quantile of event times in (0, 1).") from None


def split_request(method: str = "auto", split_params: dict | None = None, seed: int = 0,
                  min_weight: float | None = None) -> dict:
    """The full description of a split request (defaults filled in), used to reuse splits."""
    if method not in SPLIT_METHODS:
        raise DataError(f"Unknown split method {method!r}; expected one of {', '.join(SPLIT_METHODS)}.")
    params = dict(SPLIT_DEFAULTS)
    for key, value in (split_params or {}).items():
        if key not in SPLIT_DEFAULTS:
            raise DataError(f"Unknown split parameter {key!r}; expected one of "
                            f"{', '.join(SPLIT_DEFAULTS)}.")
        params[key] = value
    if params["cut"] is not None:
        params["cut"] = _cut(params["cut"])
    return {"method": method, "params": params, "seed": int(seed),
            "min_weight": None if min_weight is None else float(min_weight)}


def ensure_split(store: Store, dataset: str, interactions: pd.DataFrame | None = None, *,
                 method: str = "auto", split_params: dict | None = None, seed: int = 0,
                 min_weight: float | None = None, progress: ProgressFn = null_progress,
                 ) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    """(split_id, train, test): the stored split for this request, or a new one saved.

    ``interactions`` are the dataset's interactions (loaded when None); the positive
    filter ``min_weight`` is applied before splitting.
    """
    from engine.evaluate import make_split

    request = split_request(method, split_params, seed, min_weight)
    progress("split", 0, 1)
    split_id = store_runs.find_split(store, dataset, request)
    if split_id is not None:
        train, test = store_runs.load_split(store, split_id)
        progress("split", 1, 1)
        return split_id, train, test
    if interactions is None:
        interactions = load_dataset(store, dataset).interactions
    pos = positives(interactions, min_weight, dataset)
    p = request["params"]
    cut = p["cut"] if p["cut"] is None or isinstance(p["cut"], float) else pd.Timestamp(p["cut"])
    split = make_split(pos, method, n=int(p["n"]), fraction=float(p["fraction"]), cut=cut,
                       seed=int(seed), min_history=int(p["min_history"]))
    if split.test is None or len(split.test) == 0:
        raise DataError(f"The {method} split of dataset {dataset!r} left no test interactions; "
                        f"try another --split or a smaller --test-n/--test-fraction.")
    split_id = store_runs.save_split(store, dataset, split.train, split.test, method=split.method,
                                     request=request, params=dict(split.params or {}),
                                     info=dict(split.info or {}))
    progress("split", 1, 1)
    train, test = store_runs.load_split(store, split_id)
    return split_id, train, test


def evaluate(recs: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame, items: pd.DataFrame,
             ks, n_items: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(metrics[metric, k, value], user_metrics[user_id, metric, k, value]) of one run."""
    from engine.evaluate.metrics import accuracy_metrics, beyond_accuracy, summarise

    ks = tuple(int(k) for k in ks)
    per_user = accuracy_metrics(recs, test, ks=ks)
    summary = summarise(per_user)
    beyond = beyond_accuracy(recs, train, items, ks=ks, n_items=n_items)
    metrics = pd.concat([summary[["metric", "k", "value"]], beyond[["metric", "k", "value"]]],
                        ignore_index=True)
    return metrics, per_user[["user_id", "metric", "k", "value"]]


def _reason(algo: str, exc: BaseException) -> str:
    """One sentence for a failed run."""
    if isinstance(exc, RecscopeError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return f"{algo} ran out of memory; try a smaller dataset or smaller parameters."
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{algo} failed with {type(exc).__name__}: {first}".rstrip(": ")


def _recs_frame(user_ids: np.ndarray, items: np.ndarray, scores: np.ndarray,
                item_ids: np.ndarray) -> pd.DataFrame:
    """Top-k arrays -> DataFrame[user_id, rank, item_id, score] without the -1 padding."""
    n, k = items.shape
    keep = items >= 0
    rows, cols = np.nonzero(keep)
    return pd.DataFrame({
        "user_id": np.asarray(user_ids, dtype=object)[rows],
        "rank": (cols + 1).astype(np.int32),
        "item_id": np.asarray(item_ids, dtype=object)[items[rows, cols]],
        "score": scores[rows, cols].astype(np.float64),
    })


def recommend_all(model, matrix, user_idx: np.ndarray, user_ids: np.ndarray, item_ids: np.ndarray,
                  k: int, stage: str = "recommend", progress: ProgressFn = null_progress,
                  batch: int | None = None) -> pd.DataFrame:
    """Top-k (seen items excluded) for the given matrix rows, as a recs frame, scored
    ``batch`` users (default ``RECOMMEND_BATCH``) per ``recommend`` call."""
    frames = []
    n = len(user_idx)
    batch = int(batch or RECOMMEND_BATCH)
    progress(stage, 0, n)
    for start in range(0, n, batch):
        idx = np.asarray(user_idx[start:start + batch], dtype=np.int64)
        items, scores = model.recommend(idx, matrix, k, exclude_seen=True)
        frames.append(_recs_frame(np.asarray(user_ids)[idx], np.asarray(items), np.asarray(scores),
                                  item_ids))
        progress(stage, min(start + batch, n), n)
    if not frames:
        return pd.DataFrame({"user_id": pd.Series([], dtype=object), "rank": pd.Series([], dtype=np.int32),
                             "item_id": pd.Series([], dtype=object), "score": pd.Series([], dtype=float)})
    return pd.concat(frames, ignore_index=True)


def item_neighbours(model, item_ids: np.ndarray, n: int = N_NEIGHBOURS,
                    stage: str = "neighbours", progress: ProgressFn = null_progress,
                    ) -> pd.DataFrame:
    """Every training item's ``n`` most similar items according to a fitted ``model``
    (its own ``similar_items``; the item itself excluded), as
    DataFrame[item_id, rank, neighbour_id, score] sorted by item_id, rank. Items with
    fewer than ``n`` neighbours (a kNN model keeps only K per item) get fewer rows."""
    n_items = len(item_ids)
    batch = model.batch_size(n_items, NEIGHBOUR_BATCH)
    ids = np.asarray(item_ids, dtype=object)
    frames = []
    progress(stage, 0, n_items)
    for start in range(0, n_items, batch):
        idx = np.arange(start, min(start + batch, n_items), dtype=np.int64)
        items, scores = model.similar_items(idx, int(n))
        frames.append(_recs_frame(ids[idx], np.asarray(items), np.asarray(scores), ids)
                      .rename(columns={"user_id": "item_id", "item_id": "neighbour_id"}))
        progress(stage, int(idx[-1]) + 1, n_items)
    if not frames:
        return pd.DataFrame({"item_id": pd.Series([], dtype=object),
                             "rank": pd.Series([], dtype=np.int32),
                             "neighbour_id": pd.Series([], dtype=object),
                             "score": pd.Series([], dtype=float)})
    out = pd.concat(frames, ignore_index=True)
    return out[["item_id", "rank", "neighbour_id", "score"]]


def score_shard(bounds: tuple[int, int], *, model, matrix, test_idx: np.ndarray,
                user_ids: np.ndarray, item_ids: np.ndarray, k: int, test: pd.DataFrame,
                ks, batch: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame, float, float]:
    """Score one shard of the test users and evaluate it: the unit a backend maps.

    ``bounds`` = (start, stop) into ``test_idx`` (the matrix rows of the test users),
    scored ``batch`` users per ``recommend`` call; ``start`` is a multiple of ``batch``
    (``shard_slices``), so every call is one the one-shard run makes too: BLAS may round
    a product differently with the number of rows in a call, so other cuts could change
    the last bit of a score and with it a tie. Pure (no store), so it runs on any worker. Returns (recs, per_user, recommend
    seconds, evaluate seconds): the shard's top-``k`` lists (``recommend_all``) and its
    per-user accuracy metrics (``accuracy_metrics`` on the shard's test rows; each
    user's values depend on that user's rows only).
    """
    from engine.evaluate.metrics import accuracy_metrics

    start, stop = (int(b) for b in bounds)
    idx = np.asarray(test_idx[start:stop], dtype=np.int64)
    t0 = time.perf_counter()
    recs = recommend_all(model, matrix, idx, user_ids, item_ids, k, batch=batch)
    rec_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    if start > 0 or stop < len(test_idx):
        test = test[test["user_id"].isin(set(np.asarray(user_ids, dtype=object)[idx]))]
    per_user = accuracy_metrics(recs, test, ks=tuple(ks))[["user_id", "metric", "k", "value"]]
    return recs, per_user, rec_s, time.perf_counter() - t0


def _merge_user_metrics(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Shards' per-user metrics in ``accuracy_metrics``'s order (metric, k, then user):
    each shard holds a contiguous run of the sorted users, so a stable sort on
    (metric, k) of the shards in order gives the one-shard frame back, row for row."""
    from engine.evaluate.metrics import ACCURACY

    if len(parts) == 1:
        return parts[0]
    df = pd.concat(parts, ignore_index=True)
    code = df["metric"].astype(str).map({m: i for i, m in enumerate(ACCURACY)}).to_numpy()
    order = np.lexsort((df["k"].to_numpy(), code))  # lexsort is stable
    return df.iloc[order].reset_index(drop=True)


def score_users(model, matrix, test_idx: np.ndarray, user_ids, item_ids, k: int,
                test: pd.DataFrame, ks, backend: Backend, *, stage: str = "recommend",
                progress: ProgressFn = null_progress, batch: int | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame, float, float, float]:
    """``score_shard`` mapped by ``backend`` over user shards of ``test_idx``, merged in
    the one-shard order. Returns (recs, per_user, recommend seconds and evaluate seconds
    summed over shards, wall seconds of the fan-out). ``batch``: users per ``recommend``
    call (default ``RECOMMEND_BATCH``)."""
    batch = int(batch or RECOMMEND_BATCH)
    shards = shard_slices(len(test_idx), batch=batch, parallelism=backend.parallelism,
                          shard_users=backend.shard_users)
    shared = {"model": model, "matrix": matrix, "test_idx": test_idx,
              "user_ids": np.asarray(user_ids, dtype=object),
              "item_ids": np.asarray(item_ids, dtype=object), "k": int(k), "test": test,
              "ks": tuple(ks), "batch": batch}
    t0 = time.perf_counter()
    parts = backend.map(score_shard, shards, shared=shared, stage=stage, progress=progress)
    wall = time.perf_counter() - t0
    if not parts:  # no test user: the empty frames of the one-shard path
        parts = [score_shard((0, 0), **shared)]
    recs = pd.concat([p[0] for p in parts], ignore_index=True)
    per_user = _merge_user_metrics([p[1] for p in parts])
    return recs, per_user, sum(p[2] for p in parts), sum(p[3] for p in parts), wall


def score_and_evaluate(model, data: TrainingSplit, backend: Backend | None = None, *,
                       algo: str = "", progress: ProgressFn = null_progress,
                       batch: int | None = None,
                       ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, float, float]:
    """Top-K lists and metrics of a fitted ``model`` for every test user of ``data``,
    with ``score_shard`` mapped over user shards by ``backend`` (default: local, one
    shard in this process, as before backends existed).

    The catalogue-level metrics (coverage, novelty...) and the means need every list,
    so they are computed here from the merged shards. Returns (recs, metrics, per_user,
    recommend_seconds, evaluate_seconds); with a remote backend recommend_seconds is the
    fan-out's wall time (scoring and per-user metrics together).
    """
    from engine.evaluate.metrics import beyond_accuracy, summarise

    backend = backend or LocalBackend()
    recs, per_user, rec_s, user_eval_s, wall = score_users(
        model, data.matrix, data.test_idx, data.users.ids, data.items.ids, data.list_len,
        data.test, data.ks, backend, stage=f"recommend {algo}", progress=progress, batch=batch)
    progress(f"evaluate {algo}", 0, 1)
    t0 = time.perf_counter()
    summary = summarise(per_user)
    beyond = beyond_accuracy(recs, data.train, data.catalogue, ks=tuple(data.ks),
                             n_items=len(data.items))
    metrics = pd.concat([summary[["metric", "k", "value"]], beyond[["metric", "k", "value"]]],
                        ignore_index=True)
    eval_s = time.perf_counter() - t0
    progress(f"evaluate {algo}", 1, 1)
    if backend.name == "local":  # in-process: the same split of time as before
        return recs, metrics, per_user, rec_s, eval_s + user_eval_s
    return recs, metrics, per_user, wall, eval_s


def check_request(algos, params: dict | None, k: int, seed: int,
                  model_seed: int | None) -> tuple[list[str], dict[str, dict], int]:
    """(algorithm names, their parameters, the model seed) of a training request, every
    model built once before anything is stored: bad parameters fail fast, no run rows."""
    if int(k) < 1:
        raise DataError(f"--k must be at least 1; got {k}.")
    names, algo_params = _parse_algos(algos, params)
    mseed = int(seed if model_seed is None else model_seed)
    for name in names:
        registry.make(name, seed=mseed, **algo_params[name])
    return names, algo_params, mseed


def _parse_algos(algos, params: dict | None) -> tuple[list[str], dict[str, dict]]:
    if isinstance(algos, str):
        algos = [a for a in algos.split(",")]
    names = [a.strip() for a in algos if a and a.strip()]
    if not names:
        raise DataError("Name at least one algorithm (--algos), e.g. als,bpr; known: "
                        f"{', '.join(registry.available())}.")
    repeated = sorted({a for a in names if names.count(a) > 1})
    if repeated:  # each algorithm is one run of one train; a rerun is another train
        raise DataError(f"--algos names {', '.join(map(repr, repeated))} more than once; name "
                        f"each algorithm once (run `recscope train` again for another run).")
    unknown = [a for a in names if a not in registry.ALGORITHMS]
    if unknown:
        raise DataError(f"Unknown algorithm(s) {', '.join(map(repr, unknown))} in --algos; known: "
                        f"{', '.join(registry.available())}.")
    params = dict(params or {})
    stray = [a for a in params if a not in names]
    if stray:
        raise DataError(f"--param names algorithm(s) {', '.join(map(repr, stray))} that are not "
                        f"in --algos ({', '.join(names)}).")
    return names, {a: dict(params.get(a) or {}) for a in names}


@dataclass
class TrainingSplit:
    """One split of a dataset made ready for training, built once by ``prepare_split``
    and shared by every algorithm trained on it (``train_one`` maps over algorithms).

    users: the split's users (train and test) as an ``IdMap``, the matrix rows; items:
    the training items as an ``IdMap``, the matrix columns (test items never seen in
    training have no column); matrix: users x items training matrix, weighted by
    ``event_weights``; test_idx: matrix rows of the test users, in ``users`` order;
    catalogue: the dataset's items table (for beyond-accuracy metrics); ks: the K values
    every run is evaluated at (list length = max(ks)).
    """

    dataset: str
    split_id: int
    train: pd.DataFrame
    test: pd.DataFrame
    catalogue: pd.DataFrame
    users: IdMap
    items: IdMap
    matrix: sp.csr_matrix
    test_idx: np.ndarray
    ks: list[int]
    event_weights: dict | None = None
    min_weight: float | None = None

    @property
    def list_len(self) -> int:
        return max(self.ks)

    @property
    def n_test_users(self) -> int:
        return len(self.test_idx)


def prepare_split(store: Store, dataset: str, *, k: int = 20, split: str = "auto",
                  split_params: dict | None = None, seed: int = 0,
                  event_weights: dict | None = None, min_weight: float | None = None,
                  progress: ProgressFn = null_progress) -> TrainingSplit:
    """The stored split of ``dataset`` for this request (made and saved when new), with
    its id maps and training matrix built once (see ``TrainingSplit``)."""
    if int(k) < 1:
        raise DataError(f"--k must be at least 1; got {k}.")
    ds = load_dataset(store, dataset)
    split_id, train, test = ensure_split(store, dataset, ds.interactions, method=split,
                                         split_params=split_params, seed=seed,
                                         min_weight=min_weight, progress=progress)
    users = IdMap.from_values(set(train["user_id"]) | set(test["user_id"]), "user")
    items = IdMap.from_values(train["item_id"], "item")
    matrix = build_matrix(train, users, items, event_weights=event_weights)
    test_idx = users.positions(sorted(set(test["user_id"])))
    return TrainingSplit(dataset=dataset, split_id=split_id, train=train, test=test,
                         catalogue=ds.items, users=users, items=items, matrix=matrix,
                         test_idx=test_idx, ks=eval_ks(k), event_weights=event_weights,
                         min_weight=min_weight)


def effective_params(model, event_weights: dict | None, min_weight: float | None) -> dict:
    """The parameters a run stores: every effective model parameter (defaults included;
    seed for seeded algorithms) plus the split's event weights and minimum weight. An
    experiment file compares them to find a run it can reuse."""
    run_params = dict(model.params)
    if event_weights is not None:
        run_params["event_weights"] = dict(event_weights)
    if min_weight is not None:
        run_params["min_weight"] = float(min_weight)
    return run_params


@dataclass
class RunOutput:
    """What fitting, scoring and evaluating one run produced (``compute_run``), before
    anything is stored: the unit a backend ships back to the driver.

    status 'done' (the frames set) or 'failed' (``error``: the one-sentence reason;
    ``fit_seconds`` set when the fit itself finished). recs[user_id, rank, item_id,
    score], metrics[metric, k, value], per_user[user_id, metric, k, value] as
    ``score_and_evaluate`` gives them; neighbours as ``item_neighbours`` (None when not
    asked or the algorithm cannot say); artifacts: what the registry says the algorithm
    saves (with the item ids), else None; fit_info: the model's ``fit_info`` (health
    checks); retries: shards a backend re-ran while scoring this run.
    """

    status: str
    error: str | None = None
    recs: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    per_user: pd.DataFrame | None = None
    neighbours: pd.DataFrame | None = None
    artifacts: dict | None = None
    fit_info: dict | None = None
    fit_seconds: float | None = None
    recommend_seconds: float | None = None
    evaluate_seconds: float | None = None
    retries: int = 0


def compute_run(data: TrainingSplit, algo: str, params: dict | None = None, *, seed: int = 0,
                neighbours: int = N_NEIGHBOURS, progress: ProgressFn = null_progress,
                backend: Backend | None = None, timings: dict | None = None,
                batch: int | None = None) -> RunOutput:
    """Fit ``algo`` (``params`` over its defaults, seeded by ``seed``) on ``data``, score
    and evaluate it (``score_and_evaluate`` on ``backend``, default local) and, when the
    registry says it can, find every training item's ``neighbours`` similar items.

    Pure: reads and writes no store, so a Ray task can run it (``fan_out_runs``); the
    driver stores the output (``store_output``). An exception of the algorithm becomes
    a 'failed' output with its one-sentence reason (``fit_seconds`` kept when the fit
    finished); an interrupt is raised. ``timings``, when given, receives
    ``fit_seconds`` as soon as it is known (for a caller that records an interrupt).
    ``batch``: users per ``recommend`` call (default ``RECOMMEND_BATCH``; a Ray task gets
    the driver's, since BLAS may round a product differently with the rows per call).
    """
    backend = backend or LocalBackend()
    retries0 = backend.retries
    entry = registry.spec(algo)
    model = registry.make(algo, seed=seed, **dict(params or {}))
    fit_s = None
    try:
        stage = f"fit {algo}"
        progress(stage, 0, 0)
        t0 = time.perf_counter()
        model.fit(data.matrix, progress=lambda *a, _s=stage: progress(_s, a[-2], a[-1]))
        fit_s = time.perf_counter() - t0
        if timings is not None:
            timings["fit_seconds"] = fit_s
        progress(stage, 1, 1)

        recs, metrics, per_user, rec_s, eval_s = score_and_evaluate(
            model, data, backend, algo=algo, progress=progress, batch=batch)

        similar = None
        if neighbours and entry.similar_items:
            # what the model itself calls similar, for the Item page (timed into the
            # evaluate stage: it is an analysis of the fitted model)
            t0 = time.perf_counter()
            similar = item_neighbours(model, data.items.ids, int(neighbours),
                                      stage=f"neighbours {algo}", progress=progress)
            eval_s += time.perf_counter() - t0

        artifacts = None
        if entry.saves:
            # e.g. ALS: its item factors are all engine.recommend.explain needs to let the
            # model explain a list later (user factors are re-solved from a history)
            artifacts = {name: getattr(model, name) for name in entry.saves}
            artifacts[store_runs.ITEM_IDS] = data.items.ids
        return RunOutput("done", recs=recs, metrics=metrics, per_user=per_user,
                         neighbours=similar, artifacts=artifacts,
                         fit_info=dict(model.fit_info or {}), fit_seconds=fit_s,
                         recommend_seconds=rec_s, evaluate_seconds=eval_s,
                         retries=backend.retries - retries0)
    except Exception as exc:  # one algorithm failing must not stop the others
        return RunOutput("failed", error=_reason(algo, exc), fit_seconds=fit_s,
                         retries=backend.retries - retries0)


def store_output(store: Store, data: TrainingSplit, algo: str, run_id: int, run_params: dict,
                 out: RunOutput, *, backend_name: str = "local",
                 progress: ProgressFn = null_progress) -> dict:
    """Write one run's ``compute_run`` output: a failed output fails the run with its
    reason; a done one gets its health warnings (they read the store: the popularity
    baseline, so they run here on the driver, timed into the evaluate stage) and is
    finished in one transaction. A non-local ``backend_name`` adds ``backend`` and
    ``backend_retries`` to the run's params. Returns train_one's dict."""
    result = {"run_id": run_id, "algorithm": algo, "split_id": data.split_id,
              "status": "failed", "error": out.error}
    if out.status != "done":
        store_runs.fail_run(store, run_id, out.error, fit_seconds=out.fit_seconds)
        return result
    try:
        t0 = time.perf_counter()
        # health warnings (engine.evaluate.health), stored with the run; the in-process
        # popularity baseline is kept on this split object for its next algorithm
        health = health_check(store, split_id=data.split_id, train=data.train, test=data.test,
                              algorithm=algo, recs=out.recs, per_user=out.per_user,
                              n_items=len(data.items), n_test_users=data.n_test_users,
                              fit_info=out.fit_info, cache=vars(data).setdefault("_health", {}))
        eval_s = out.evaluate_seconds + (time.perf_counter() - t0)
        progress("store", 0, 1)
        remote = backend_name != "local"
        if remote:  # where the lists were made, and how often Ray re-ran a task
            run_params = dict(run_params, backend=backend_name, backend_retries=int(out.retries))
        store_runs.finish_run(store, run_id, recs=out.recs, metrics=out.metrics,
                              user_metrics=out.per_user, fit_seconds=out.fit_seconds,
                              recommend_seconds=out.recommend_seconds, evaluate_seconds=eval_s,
                              n_users=data.n_test_users, artifacts=out.artifacts,
                              neighbours=out.neighbours, warnings=health,
                              params=run_params if remote else None)
        progress("store", 1, 1)
    except Exception as exc:  # a frame the store refuses: the run fails, not the train
        result["error"] = _reason(algo, exc)
        store_runs.fail_run(store, run_id, result["error"], fit_seconds=out.fit_seconds)
        return result
    return dict(result, status="done", error=None)


def train_one(store: Store, data: TrainingSplit, algo: str, params: dict | None = None, *,
              seed: int = 0, neighbours: int = N_NEIGHBOURS,
              progress: ProgressFn = null_progress, backend: Backend | None = None) -> dict:
    """Train algorithm ``algo`` (with ``params`` over its defaults, seeded by ``seed``) on
    the prepared split ``data``, evaluate it and store it as one run.

    The unit a tuner maps over: ``compute_run`` (fit, score, evaluate: pure) between
    the two store calls (``create_run``; ``store_output``). The run row is created
    ('running') before training; lists, metrics, timings and what the registry says the
    algorithm saves are written in one transaction at the end. A failure leaves a
    'failed' run with its one-sentence reason and is returned, not raised (except an
    interrupt). Bad parameters raise before any row is written.

    ``backend`` (``engine.backends``; default local, in this process): where scoring and
    per-user evaluation run (``score_and_evaluate``); the model is fitted here either
    way. A non-local backend adds ``backend`` and ``backend_retries`` (shards Ray re-ran
    after a worker died) to the run's params. (``fan_out_runs`` runs several whole
    runs as Ray tasks instead.)

    Returns {run_id, algorithm, split_id, status ('done' | 'failed'), error}.
    """
    backend = backend or LocalBackend()
    model = registry.make(algo, seed=seed, **dict(params or {}))
    run_params = effective_params(model, data.event_weights, data.min_weight)
    run_id = store_runs.create_run(store, dataset=data.dataset, split_id=data.split_id,
                                   algorithm=algo, params=run_params, source="trained",
                                   k=data.list_len, code_version=code_version())
    timings: dict = {}
    try:
        out = compute_run(data, algo, params, seed=seed, neighbours=neighbours,
                          progress=progress, backend=backend, timings=timings)
    except KeyboardInterrupt:
        store_runs.fail_run(store, run_id, f"{algo} was interrupted.",
                            fit_seconds=timings.get("fit_seconds"))
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. the backend lost its cluster mid-run
        out = RunOutput("failed", error=_reason(algo, exc),
                        fit_seconds=timings.get("fit_seconds"))
    return store_output(store, data, algo, run_id, run_params, out, backend_name=backend.name,
                        progress=progress)


@dataclass
class RunJob:
    """One run for ``fan_out_runs``: an algorithm with its parameters on a prepared split."""

    data: TrainingSplit
    algo: str
    params: dict
    seed: int = 0
    neighbours: int = N_NEIGHBOURS


def _remote_run(job: dict, *, data: TrainingSplit) -> RunOutput:
    """One whole run on a worker: ``compute_run`` with scoring in the task itself (the
    local backend, one shard). Why not the shard fan-out inside the task: the runs
    themselves already fill the cluster's CPUs (one task per run), and nested shard tasks
    would put the fitted model through the object store again and compete for the same
    CPUs; one shard in the task makes exactly the local backend's ``recommend`` calls,
    so the lists are the local backend's by construction.

    The training matrix is copied first: Ray hands a task the object store's arrays
    read-only (zero copy), and implicit's fitting code asks for writable buffers."""
    import dataclasses

    data = dataclasses.replace(data, matrix=data.matrix.copy())
    return compute_run(data, job["algo"], job["params"], seed=job["seed"],
                       neighbours=job["neighbours"], batch=job["batch"])


def _system_reason(algo: str, error: BaseException) -> str:
    """One sentence for a run whose Ray task ended without an output (its worker died
    more than ``max_retries`` times, the node was lost, ...)."""
    first = (str(error).strip().splitlines() or [""])[0].strip()
    if len(first) > 200:
        first = first[:197] + "..."
    return (f"{algo} failed on the Ray cluster ({type(error).__name__}"
            + (f": {first.rstrip('.')}" if first else "") + ").")


def fan_out_runs(store: Store, jobs: list[RunJob], backend, *,
                 progress: ProgressFn = null_progress,
                 on_stored=None) -> list[dict]:
    """Independent runs (several algorithms, the folds of a cross-validation) as one Ray
    task each (``backend.pool``), written by this process only.

    - Every run row is created here first ('running', owned by this process, its
      heartbeat beating: ``engine.liveness``), in ``jobs`` order, so the run ids are the
      ones the local loop gives.
    - Each distinct split (``RunJob.data``) goes into the object store once and is passed
      to its runs' tasks by reference; a task runs ``compute_run`` (``_remote_run``)
      and returns its frames (Arrow through the object store, or Parquet in the
      backend's spill dir); workers never open the store.
    - Outputs are written as they arrive but in ``jobs`` order (a finished run waits
      for the runs before it), so what a run reads of the store while it is written
      (the popularity baseline of the health checks) is what the local loop saw.
    - A task whose algorithm fails, or which Ray gives up on (a worker that died more
      than ``max_retries`` times), fails that run with one sentence; the others are
      stored. An interrupt (or a lost cluster) fails every run not yet written, then
      raises.

    ``on_stored(index, result)`` is called after each run is written (the folds group
    their runs there). Returns train_one's dicts in ``jobs`` order.
    """
    jobs = list(jobs)
    rows = []
    for job in jobs:
        model = registry.make(job.algo, seed=job.seed, **dict(job.params or {}))
        run_params = effective_params(model, job.data.event_weights, job.data.min_weight)
        run_id = store_runs.create_run(store, dataset=job.data.dataset,
                                       split_id=job.data.split_id, algorithm=job.algo,
                                       params=run_params, source="trained",
                                       k=job.data.list_len, code_version=code_version())
        rows.append((run_id, run_params))
    results: list = [None] * len(jobs)
    outputs: dict[int, RunOutput] = {}
    written = 0
    stage = f"runs on {backend.name}"
    pool = None
    try:
        pool = backend.pool(_remote_run)
        refs: dict[int, object] = {}  # id(TrainingSplit) -> its object-store reference
        for i, job in enumerate(jobs):
            ref = refs.get(id(job.data))
            if ref is None:
                ref = refs[id(job.data)] = pool.put(job.data)
            pool.submit(i, {"algo": job.algo, "params": dict(job.params or {}),
                            "seed": int(job.seed), "neighbours": int(job.neighbours),
                            "batch": RECOMMEND_BATCH}, data=ref)
        progress(stage, 0, len(jobs))
        while pool.running:
            i, out, error = pool.next_done()
            if error is not None:
                out = RunOutput("failed", error=_system_reason(jobs[i].algo, error))
            out.retries = max(0, pool.attempts(i) - 1)
            outputs[i] = out
            progress(stage, len(outputs), len(jobs))
            while written < len(jobs) and written in outputs:
                job = jobs[written]
                run_id, run_params = rows[written]
                results[written] = store_output(store, job.data, job.algo, run_id, run_params,
                                                outputs.pop(written), backend_name=backend.name)
                written += 1
                if on_stored is not None:
                    on_stored(written - 1, results[written - 1])
    except BaseException as exc:
        reason = (" was interrupted." if isinstance(exc, KeyboardInterrupt) else
                  f" was not finished: the driver stopped ({type(exc).__name__}).")
        for i in range(written, len(jobs)):
            try:  # only runs still 'running': fail_run would wipe a run already written
                if store_runs.get_run(store, rows[i][0])["status"] == "running":
                    store_runs.fail_run(store, rows[i][0], f"{jobs[i].algo}{reason}")
            except Exception:  # noqa: BLE001 - a busy store: the liveness sweep finishes it
                pass
        raise
    finally:
        if pool is not None:
            pool.close()
    return results


def train_runs(store: Store, dataset: str, algos: list[str], *, k: int = 20, split: str = "auto",
               split_params: dict | None = None, seed: int = 0,
               params: dict[str, dict] | None = None, event_weights: dict | None = None,
               min_weight: float | None = None, neighbours: int = N_NEIGHBOURS,
               model_seed: int | None = None,
               progress: ProgressFn = null_progress, backend: Backend | None = None) -> list[dict]:
    """Train ``algos`` on one split of ``dataset``; one run per algorithm (``train_one``).

    ``seed`` draws the split and, unless ``model_seed`` is given, seeds the models;
    ``model_seed`` retrains on the same split with other random starts, so the spread of
    a model's metric over seeds can be set beside a difference between models.

    ``neighbours``: similar items kept per training item for the Item page (0 keeps
    none: on catalogues of tens of thousands of items it costs tens of seconds a run).

    Returns ``[{run_id, algorithm, split_id, status, error}, ...]`` in ``algos`` order;
    status is 'done' or 'failed' (error then holds the one-sentence reason).
    """
    if int(neighbours) < 0:
        raise DataError(f"--neighbours must be 0 or more; got {neighbours}.")
    names, algo_params, mseed = check_request(algos, params, k, seed, model_seed)
    data = prepare_split(store, dataset, k=k, split=split, split_params=split_params, seed=seed,
                         event_weights=event_weights, min_weight=min_weight, progress=progress)
    if fans_out(backend, len(names)):
        return fan_out_runs(store, [RunJob(data, name, algo_params[name], mseed, int(neighbours))
                                    for name in names], backend, progress=progress)
    return [train_one(store, data, name, algo_params[name], seed=mseed, neighbours=neighbours,
                      progress=progress, backend=backend) for name in names]


def fans_out(backend: Backend | None, n_runs: int) -> bool:
    """Whether ``n_runs`` independent runs go out as one task each (``fan_out_runs``):
    on a backend that can (Ray's ``pool``) and with more than one run. A single run keeps
    the model on the driver and fans its scoring out over user shards instead."""
    return backend is not None and hasattr(backend, "pool") and int(n_runs) > 1


def compare_runs(store: Store, run_a: int, run_b: int, *, metric: str = "ndcg", k: int = 10,
                 p: float = 0.9, n_boot: int = 2000, seed: int = 0, relevance: str = "any") -> dict:
    """Overlap of two runs' top-k lists and a paired test of one per-user metric.

    Returns run_a, run_b, algorithm_a, algorithm_b, metric, k, same_split,
    n_overlap_users, mean_jaccard, mean_rbo, mean_kendall_tau, and the keys of
    ``engine.evaluate.stats.paired_test`` (n, mean_a, mean_b, mean_diff, ci_low, ci_high,
    p_value_t, p_value_wilcoxon, wins, ties, losses): mean_diff = A - B, and wins
    counts users where A beats B (the JSON exception to the B − A convention stated in
    ``engine.evaluate.stats``; ``stats.second_minus_first`` turns it round).
    """
    from engine.evaluate.overlap import user_overlap
    from engine.evaluate.stats import paired_test

    a, b = store_runs.get_run(store, run_a), store_runs.get_run(store, run_b)
    for run in (a, b):
        if run["status"] != "done":
            raise DataError(f"Run {run['run_id']} is {run['status']}"
                            + (f" ({run['error']})" if run.get("error") else "")
                            + "; only finished runs can be compared.")
    if a["dataset"] != b["dataset"]:
        raise DataError(f"Run {a['run_id']} is on dataset {a['dataset']!r} and run {b['run_id']} on "
                        f"{b['dataset']!r}; compare runs of one dataset.")
    k = int(k)
    if k < 1:
        raise DataError(f"--k must be at least 1; got {k}.")
    if relevance != "any":  # held-out applications / hires only (engine.services.relevance)
        from engine.services import relevance as rel

        rel.check(relevance, a["dataset"], store)
        sa = rel.user_series(store, a["run_id"], relevance, metric, k)
        sb = rel.user_series(store, b["run_id"], relevance, metric, k)
    else:
        sa = store_runs.user_metric_series(store, a["run_id"], metric, k)
        sb = store_runs.user_metric_series(store, b["run_id"], metric, k)
    if sa.empty or sb.empty:
        have = store_runs.user_metrics(store, a["run_id"])
        pairs = sorted({f"{m}@{kk}" for m, kk in zip(have["metric"], have["k"])})
        raise DataError(f"No per-user {metric}@{k} for run "
                        f"{a['run_id'] if sa.empty else b['run_id']}; per-user metrics available: "
                        f"{', '.join(pairs) or 'none'}.")
    shared = sa.index.intersection(sb.index)
    test = paired_test(sa.loc[shared], sb.loc[shared], n_boot=n_boot, seed=seed)
    ov = user_overlap(store_runs.recommendations(store, a["run_id"], k=k),
                      store_runs.recommendations(store, b["run_id"], k=k), k=k, p=p)

    def mean(col):
        v = ov[col].dropna()
        return float(v.mean()) if len(v) else None

    out = {"run_a": a["run_id"], "run_b": b["run_id"], "algorithm_a": a["algorithm"],
           "algorithm_b": b["algorithm"], "metric": metric, "k": k,
           "same_split": a["split_id"] == b["split_id"], "n_overlap_users": int(len(ov)),
           "mean_jaccard": mean("jaccard"), "mean_rbo": mean("rbo"),
           "mean_kendall_tau": mean("kendall_tau")}
    out.update(test)
    return out


def demo_step(store: Store, dataset_name: str, seed: int, progress: ProgressFn = null_progress,
              ) -> list[dict]:
    """The demo's recommender step: train ``DEFAULT_ALGOS`` on the demo dataset."""
    return train_runs(store, dataset_name, list(registry.DEFAULT_ALGOS), seed=seed,
                      progress=progress)
