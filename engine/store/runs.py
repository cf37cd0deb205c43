"""Splits, runs, recommendations and metrics in the store (all their SQL lives here).

A *split* is a ``split_defs`` row plus its ``splits`` rows (part 'train' or 'test').
Several runs share one split: ``find_split`` looks up an identical request (same
dataset, method and parameters, seed included) before a new one is saved.

A *run* is written in two steps so that a crash never leaves half a run behind:
``create_run`` inserts a row with status 'running' before training starts;
``finish_run`` then writes the recommendations, metrics, per-user metrics, timings and
status 'done' in ONE transaction (or ``fail_run`` records status 'failed' and the
reason, with no recommendations). Runs are immutable: a rerun is a new run id.

A run may also keep *artifacts* of its model (``run_artifacts``): an ALS run keeps its
item factors and their item ids, so that the model can explain its lists later without
being kept in memory (``item_factors``). They are written by ``finish_run`` in the same
transaction as the lists and removed with the run. So are ``item_neighbours``: each
training item's top-N most similar items according to the run's model, for the models
that can say (the registry's ``AlgoSpec.similar_items``). And its health warnings
(``run_warnings``: code, one-sentence message, the number that triggered it), computed by
``engine.evaluate.health`` at training; runs finished before the table existed have none.

Bulk inserts go through registered DataFrames (DuckDB scans them via Arrow, which is
fast for tens of millions of rows). Recommendations are inserted sorted by
(run_id, user_id, rank) so that DuckDB's zonemaps can prune by user quickly.
"""

from __future__ import annotations

import io
import json
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from engine.data.dataset import ids_to_text
from engine.errors import DataError, NotFound
from engine.store import item_index
from engine.store.core import Store
from engine.store.sql import empty, ph
from engine.store.sql import run_ids as sql_run_ids

#: Columns of a recommendations frame, in order.
RECS_COLUMNS = ["user_id", "rank", "item_id", "score"]
#: Columns of a train/test frame, in order (as the evaluation code expects them).
SPLIT_COLUMNS = ["user_id", "item_id", "timestamp", "weight"]

_RUN_COLUMNS = ("run_id, dataset, split_id, algorithm, name, params, source, status, error, k, "
                "fit_seconds, recommend_seconds, evaluate_seconds, n_users, code_version, "
                "created_at, finished_at")


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys: two equal dicts give the same text (used to match splits)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, default=_json_default)


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, (pd.Timestamp,)):
        return o.isoformat()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _text_ids(s: pd.Series) -> pd.Series:
    """Ids as text. Text columns pass through untouched (fast for tens of millions of rows)."""
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
        return s
    return ids_to_text(s)


# --------------------------------------------------------------------------- splits

def find_split(store: Store, dataset: str, request: dict) -> int | None:
    """The id of a stored split made from the same request on ``dataset``, or None.

    ``request`` is the full description of how the split was asked for (method,
    parameters, seed, positive filter); it is compared as canonical JSON.
    """
    want = canonical_json(request)
    rows = store.df("SELECT split_id, params FROM split_defs WHERE dataset = ? "
                    "ORDER BY split_id DESC", [dataset])
    for split_id, params in zip(rows["split_id"], rows["params"]):
        try:
            got = json.loads(params or "{}").get("request")
        except (TypeError, ValueError):
            continue
        if got is not None and canonical_json(got) == want:
            return int(split_id)
    return None


def save_split(store: Store, dataset: str, train: pd.DataFrame, test: pd.DataFrame, *,
               method: str, request: dict, params: dict | None = None,
               info: dict | None = None) -> int:
    """Store a split (one transaction) and return its new split_id.

    ``method`` is the method actually used (e.g. 'leave_last_n' when 'auto' was asked);
    ``request`` is what was asked (looked up by ``find_split``); ``params`` the resolved
    parameters and ``info`` any notes from the splitter.
    """
    parts = []
    for part, frame in (("train", train), ("test", test)):
        missing = [c for c in ("user_id", "item_id") if c not in frame.columns]
        if missing:
            raise DataError(f"The {part} part of a split lacks the column(s) {', '.join(missing)}.")
        f = pd.DataFrame({
            "user_id": _text_ids(frame["user_id"]),
            "item_id": _text_ids(frame["item_id"]),
            "part": part,
            "ts": (pd.to_datetime(frame["timestamp"]).astype("datetime64[us]")
                   if "timestamp" in frame.columns
                   else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")),
            "weight": (pd.to_numeric(frame["weight"]).astype("float64")
                       if "weight" in frame.columns else 1.0),
            "event": (frame["event"].astype(object).where(frame["event"].notna(), None)
                      if "event" in frame.columns else None),
        })
        parts.append(f)
    rows = pd.concat(parts, ignore_index=True)
    doc = {"request": request, "resolved": params or {}, "info": info or {}}
    with store.transaction() as con:
        split_id = con.execute("SELECT nextval('split_id_seq')").fetchall()[0][0]
        con.execute(
            "INSERT INTO split_defs (split_id, dataset, method, params, n_train, n_test, n_test_users) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [split_id, dataset, method, canonical_json(doc), int(len(train)), int(len(test)),
             int(test["user_id"].nunique())])
        con.register("_split_rows", rows)
        con.execute("INSERT INTO splits (split_id, user_id, item_id, part, ts, weight, event) "
                    "SELECT ?, user_id, item_id, part, ts, weight, event "
                    "FROM _split_rows ORDER BY user_id, part, ts", [split_id])
        con.unregister("_split_rows")
    return int(split_id)


def get_split(store: Store, split_id: int) -> dict:
    """One split's description: split_id, dataset, method, params (dict), counts."""
    df = store.df("SELECT split_id, dataset, method, params, created_at, n_train, n_test, "
                  "n_test_users FROM split_defs WHERE split_id = ?", [int(split_id)])
    if df.empty:
        raise NotFound(f"There is no split with id {split_id} in {store.path}; "
                       f"`recscope runs --dataset NAME` shows the split of every run.")
    row = df.iloc[0].to_dict()
    row["params"] = json.loads(row["params"] or "{}")
    row["split_id"] = int(row["split_id"])
    return row


def list_splits(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """One row per split: split_id, dataset, method, params (JSON text), counts."""
    sql = ("SELECT split_id, dataset, method, params, created_at, n_train, n_test, n_test_users "
           "FROM split_defs")
    if dataset is None:
        return store.df(sql + " ORDER BY split_id")
    return store.df(sql + " WHERE dataset = ? ORDER BY split_id", [dataset])


def latest_split_id(store: Store, dataset: str) -> int | None:
    v = store.scalar("SELECT max(split_id) FROM split_defs WHERE dataset = ?", [dataset])
    return None if v is None else int(v)


def _split_part(store: Store, split_id: int, part: str, user_id: str | None) -> pd.DataFrame:
    sql = ("SELECT user_id, item_id, ts AS timestamp, weight, event FROM splits "
           "WHERE split_id = ? AND part = ?")
    params: list = [int(split_id), part]
    if user_id is not None:
        sql += " AND user_id = ?"
        params.append(str(user_id))
    return store.df(sql + " ORDER BY user_id, timestamp, item_id", params)


def test_items(store: Store, split_id: int, user_id: str | None = None) -> pd.DataFrame:
    """The test part of a split: DataFrame[user_id, item_id, timestamp, weight, event]."""
    return _split_part(store, split_id, "test", user_id)


def train_items(store: Store, split_id: int, user_id: str | None = None) -> pd.DataFrame:
    """The train part of a split: DataFrame[user_id, item_id, timestamp, weight, event]."""
    return _split_part(store, split_id, "train", user_id)


def load_split(store: Store, split_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) frames of a stored split."""
    get_split(store, split_id)  # NotFound with a sentence when unknown
    return train_items(store, split_id), test_items(store, split_id)


# --------------------------------------------------------------------------- runs

def create_run(store: Store, *, dataset: str, split_id: int | None, algorithm: str,
               params: dict | None = None, name: str | None = None, source: str = "trained",
               k: int | None = None, code_version: str | None = None) -> int:
    """Insert a run with status 'running' (before any training) and return its new id."""
    from engine import liveness

    owner = liveness.this_owner()  # so a later process can tell a killed run (sweep)
    with store.transaction() as con:
        run_id = con.execute("SELECT nextval('run_id_seq')").fetchall()[0][0]
        con.execute(
            "INSERT INTO runs (run_id, dataset, split_id, algorithm, name, params, source, status, "
            "k, code_version, owner_host, owner_pid, owner_started, heartbeat_unix) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
            [run_id, dataset, None if split_id is None else int(split_id), algorithm,
             name or algorithm, canonical_json(params or {}), source,
             None if k is None else int(k), code_version, owner["owner_host"],
             owner["owner_pid"], owner["owner_started"], owner["heartbeat_unix"]])
    liveness.start_heartbeat(store, int(run_id))
    return int(run_id)


def beat_runs(store: Store, run_ids: Sequence[int], now_unix: float) -> None:
    """Refresh the heartbeat of this process's running runs (engine.liveness)."""
    with store.transaction() as con:
        con.execute("UPDATE runs SET heartbeat_unix = ? WHERE status = 'running' AND run_id IN "
                    f"({', '.join('?' * len(run_ids))})", [now_unix, *map(int, run_ids)])


def running_owners(store: Store) -> list[dict]:
    """The 'running' runs with their owner columns (and created_at as unix seconds)."""
    if not store.path.exists():
        return []
    df = store.df("SELECT run_id, owner_host, owner_pid, owner_started, heartbeat_unix, "
                  "epoch(created_at) AS created_unix FROM runs WHERE status = 'running'")
    return df.to_dict(orient="records")


#: The tables holding what a run produced, by run_id: emptied when a run fails or is
#: interrupted, deleted with the run or its dataset. (An interrupted run never has
#: warnings: they are written with its lists in ``finish_run``.)
RUN_OUTPUT_TABLES = ("recommendations", "metrics", "user_metrics", "run_artifacts",
                     "item_neighbours", "run_warnings", *item_index.TABLES)


def mark_interrupted(store: Store, run_ids: Sequence[int], reason: str) -> None:
    """Mark runs still 'running' as failed with ``reason`` (their owner is gone)."""
    with store.transaction() as con:
        for run_id in run_ids:
            for table in RUN_OUTPUT_TABLES:
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [int(run_id)])
            con.execute("UPDATE runs SET status = 'failed', error = ?, "
                        "finished_at = current_timestamp WHERE run_id = ? AND status = 'running'",
                        [reason, int(run_id)])


def _check_running(con, run_id: int) -> None:
    rows = con.execute("SELECT status FROM runs WHERE run_id = ?", [int(run_id)]).fetchall()
    row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"There is no run with id {run_id}; `recscope runs` lists the run ids.")
    if row[0] != "running":
        raise DataError(f"Run {run_id} is already {row[0]}; runs are immutable, so train again "
                        f"to get a new run id.")


def _recs_frame(recs: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("user_id", "rank", "item_id") if c not in recs.columns]
    if missing:
        raise DataError(f"Recommendations lack the column(s) {', '.join(missing)}.")
    out = pd.DataFrame({
        "user_id": _text_ids(recs["user_id"]),
        "rank": pd.to_numeric(recs["rank"]).astype("int32"),
        "item_id": _text_ids(recs["item_id"]),
        "score": (pd.to_numeric(recs["score"]).astype("float64") if "score" in recs.columns
                  else np.nan),
    })
    return out


def _neighbours_frame(nb: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("item_id", "rank", "neighbour_id", "score") if c not in nb.columns]
    if missing:
        raise DataError(f"Item neighbours lack the column(s) {', '.join(missing)}.")
    return pd.DataFrame({"item_id": _text_ids(nb["item_id"]),
                         "rank": pd.to_numeric(nb["rank"]).astype("int16"),
                         "neighbour_id": _text_ids(nb["neighbour_id"]),
                         "score": pd.to_numeric(nb["score"]).astype("float64")})


#: The artifact names of a factor model's item side (see ``item_factors``).
ITEM_FACTORS, ITEM_IDS = "item_factors", "item_ids"


def encode_artifact(value) -> tuple[str, bytes]:
    """(format, payload) of one artifact: a numeric numpy array as .npy bytes ('npy',
    read back without pickle), a sequence of texts (e.g. item ids) as a UTF-8 JSON list
    ('json'; .npy would need pickle or fixed-width UTF-32 for text)."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(value), allow_pickle=False)
        return "npy", buf.getvalue()
    if isinstance(value, (list, tuple, np.ndarray, pd.Series, pd.Index)):
        return "json", json.dumps([str(v) for v in value], ensure_ascii=False).encode("utf-8")
    raise DataError(f"A run artifact must be a numeric numpy array or a list of texts; got "
                    f"{type(value).__name__}.")


def decode_artifact(fmt: str, data: bytes):
    if fmt == "npy":
        return np.load(io.BytesIO(data), allow_pickle=False)
    if fmt == "json":
        return json.loads(bytes(data).decode("utf-8"))
    raise DataError(f"Unknown run artifact format {fmt!r} in the store (expected npy or json).")


def _write_artifacts(con, run_id: int, encoded: Sequence[tuple[str, str, bytes]]) -> None:
    for name, fmt, data in encoded:
        con.execute("INSERT INTO run_artifacts (run_id, name, format, data) VALUES (?, ?, ?, ?)",
                    [int(run_id), str(name), fmt, data])


def finish_run(store: Store, run_id: int, *, recs: pd.DataFrame, metrics: pd.DataFrame,
               user_metrics: pd.DataFrame | None = None, fit_seconds: float | None = None,
               recommend_seconds: float | None = None, evaluate_seconds: float | None = None,
               n_users: int | None = None, artifacts: Mapping[str, Any] | None = None,
               neighbours: pd.DataFrame | None = None,
               warnings: Sequence[Mapping[str, Any]] | None = None,
               params: dict | None = None) -> None:
    """Write a run's lists, metrics, per-user metrics and timings; status 'done'. One transaction.

    recs: DataFrame[user_id, rank, item_id, score]; metrics: DataFrame[metric, k, value];
    user_metrics: DataFrame[user_id, metric, k, value]; artifacts: {name: numeric array
    or list of texts} the run keeps of its model (e.g. ``{ITEM_FACTORS: ..., ITEM_IDS: ...}``);
    neighbours: DataFrame[item_id, rank, neighbour_id, score], each item's most similar
    items according to the model (``item_neighbours``; see ``neighbours_frame``);
    warnings: the run's health warnings, dicts with code, message and value.
    params: when given, replaces the run's params (what was learnt while it ran, e.g.
    how often a backend retried).
    """
    # encoded before the transaction opens: a bad artifact fails with nothing written
    encoded = [(str(name), *encode_artifact(value)) for name, value in (artifacts or {}).items()]
    nb = None if neighbours is None else _neighbours_frame(neighbours)
    r = _recs_frame(recs)
    m = pd.DataFrame({"metric": metrics["metric"].astype(str).astype(object),
                      "k": pd.to_numeric(metrics["k"]).astype("int32"),
                      "value": pd.to_numeric(metrics["value"]).astype("float64")})
    if user_metrics is None:
        um = pd.DataFrame({"user_id": pd.Series([], dtype=object), "metric": pd.Series([], dtype=object),
                           "k": pd.Series([], dtype="int32"), "value": pd.Series([], dtype="float64")})
    else:
        um = pd.DataFrame({"user_id": _text_ids(user_metrics["user_id"]),
                           "metric": user_metrics["metric"].astype(str).astype(object),
                           "k": pd.to_numeric(user_metrics["k"]).astype("int32"),
                           "value": pd.to_numeric(user_metrics["value"]).astype("float64")})
    if n_users is None:
        n_users = int(r["user_id"].nunique())
    with store.transaction() as con:
        _check_running(con, run_id)
        from engine.liveness import stop_heartbeat

        stop_heartbeat(run_id)
        con.register("_recs", r)
        con.execute("INSERT INTO recommendations SELECT ?, user_id, rank, item_id, score FROM _recs "
                    "ORDER BY user_id, rank", [int(run_id)])
        item_index.index_run(con, run_id)
        con.register("_metrics", m)
        con.execute("INSERT INTO metrics SELECT ?, metric, k, value FROM _metrics "
                    "ORDER BY metric, k", [int(run_id)])
        con.register("_user_metrics", um)
        con.execute("INSERT INTO user_metrics SELECT ?, user_id, metric, k, value FROM _user_metrics "
                    "ORDER BY metric, k, user_id", [int(run_id)])
        con.execute(
            "UPDATE runs SET status = 'done', error = NULL, fit_seconds = ?, recommend_seconds = ?, "
            "evaluate_seconds = ?, n_users = ?, finished_at = current_timestamp WHERE run_id = ?",
            [fit_seconds, recommend_seconds, evaluate_seconds, int(n_users), int(run_id)])
        if params is not None:
            con.execute("UPDATE runs SET params = ? WHERE run_id = ?",
                        [canonical_json(params), int(run_id)])
        for t in ("_recs", "_metrics", "_user_metrics"):
            con.unregister(t)
        con.execute("DELETE FROM run_artifacts WHERE run_id = ?", [int(run_id)])
        _write_artifacts(con, run_id, encoded)
        con.execute("DELETE FROM item_neighbours WHERE run_id = ?", [int(run_id)])
        if nb is not None and len(nb):
            con.register("_neighbours", nb)
            con.execute("INSERT INTO item_neighbours SELECT ?, item_id, rank, neighbour_id, score "
                        "FROM _neighbours ORDER BY item_id, rank", [int(run_id)])
            con.unregister("_neighbours")
        con.execute("DELETE FROM run_warnings WHERE run_id = ?", [int(run_id)])
        for w in warnings or ():
            value = w.get("value")
            con.execute("INSERT INTO run_warnings VALUES (?, ?, ?, ?)",
                        [int(run_id), str(w["code"]), str(w["message"]),
                         None if value is None else float(value)])


def fail_run(store: Store, run_id: int, error: str, *, fit_seconds: float | None = None) -> None:
    """Mark a run 'failed' with its one-sentence reason; it keeps no recommendations."""
    from engine.liveness import stop_heartbeat

    stop_heartbeat(run_id)
    with store.transaction() as con:
        for table in RUN_OUTPUT_TABLES:
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [int(run_id)])
        con.execute("UPDATE runs SET status = 'failed', error = ?, fit_seconds = ?, "
                    "finished_at = current_timestamp WHERE run_id = ?",
                    [str(error), fit_seconds, int(run_id)])


def delete_run(store: Store, run_id: int) -> None:
    """Remove a run and everything it owns (one transaction)."""
    get_run(store, run_id)
    with store.transaction() as con:
        for table in (*RUN_OUTPUT_TABLES, "runs"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [int(run_id)])


# --------------------------------------------------------------------------- readers

def list_runs(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """One row per run (newest last): ids, algorithm, name, params (JSON text), source,
    status, error, k, timings, n_users, code_version, created_at, finished_at."""
    sql = f"SELECT {_RUN_COLUMNS} FROM runs"
    if dataset is None:
        return store.df(sql + " ORDER BY run_id")
    return store.df(sql + " WHERE dataset = ? ORDER BY run_id", [dataset])


def runs_with_metrics(store: Store, dataset: str | None = None,
                      ks: Iterable[int] = (10, 20)) -> pd.DataFrame:
    """``list_runs`` plus one column per (metric, k) named like ``ndcg@10`` (wide)."""
    runs = list_runs(store, dataset)
    ks = [int(k) for k in ks]
    if runs.empty or not ks:
        return runs
    sql = (f"SELECT m.run_id, m.metric, m.k, m.value FROM metrics m JOIN runs r USING (run_id) "
           f"WHERE m.k IN ({ph(ks)})")
    params: list = list(ks)
    if dataset is not None:
        sql += " AND r.dataset = ?"
        params.append(dataset)
    long = store.df(sql, params)
    if long.empty:
        return runs
    long["column"] = long["metric"] + "@" + long["k"].astype(int).astype(str)
    order = list(dict.fromkeys(long.sort_values(["k", "metric"])["column"]))
    wide = long.pivot_table(index="run_id", columns="column", values="value", aggfunc="first")
    wide = wide.reindex(columns=order).reset_index()
    wide.columns.name = None
    return runs.merge(wide, on="run_id", how="left")


def get_run(store: Store, run_id: int) -> dict:
    """One run as a dict (params parsed). NotFound names how to find the run ids."""
    try:
        rid = int(run_id)
    except (TypeError, ValueError):
        raise DataError(f"A run id is a whole number; got {run_id!r}.") from None
    df = store.df(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ?", [rid])
    if df.empty:
        raise NotFound(f"There is no run with id {rid} in {store.path}; `recscope runs` "
                       f"(or `recscope runs --dataset NAME`) lists the run ids.")
    row = {k: (None if (v is pd.NaT or (isinstance(v, float) and np.isnan(v))) else v)
           for k, v in df.iloc[0].to_dict().items()}
    row["params"] = json.loads(row["params"] or "{}")
    for c in ("run_id", "split_id", "k", "n_users"):
        if row.get(c) is not None:
            row[c] = int(row[c])
    return row


def run_artifact(store: Store, run_id: int, name: str):
    """One artifact a run kept (a numpy array or a list of texts), or None."""
    with store.connect() as con:
        row = con.execute("SELECT format, data FROM run_artifacts WHERE run_id = ? AND name = ?",
                          [int(run_id), str(name)]).fetchone()
    return None if row is None else decode_artifact(row[0], row[1])


def item_factors(store: Store, run_id: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(item factors float32 [n_items, factors], item ids object [n_items]) of a factor
    model's run, row ``i`` belonging to ``item_ids[i]``; None when the run kept none
    (runs of other algorithms, imported runs, runs trained before factors were kept)."""
    with store.connect() as con:
        rows = con.execute("SELECT name, format, data FROM run_artifacts WHERE run_id = ? "
                           "AND name IN (?, ?)", [int(run_id), ITEM_FACTORS, ITEM_IDS]).fetchall()
    got = {name: decode_artifact(fmt, data) for name, fmt, data in rows}
    if ITEM_FACTORS not in got or ITEM_IDS not in got:
        return None
    factors = np.asarray(got[ITEM_FACTORS], dtype=np.float32)
    ids = np.asarray(got[ITEM_IDS], dtype=object)
    if factors.ndim != 2 or factors.shape[0] != len(ids):
        raise DataError(f"Run {run_id}'s stored item factors have shape {factors.shape} but "
                        f"{len(ids)} item ids; the store is damaged: retrain the run.")
    return factors, ids


def artifact_sizes(store: Store, run_ids: Iterable[int] | None = None) -> pd.DataFrame:
    """Bytes each run keeps per artifact: DataFrame[run_id, name, format, bytes]."""
    sql = "SELECT run_id, name, format, octet_length(data) AS bytes FROM run_artifacts"
    if run_ids is None:
        return store.df(sql + " ORDER BY run_id, name")
    ids = [int(r) for r in run_ids]
    if not ids:
        return store.df(sql + " WHERE false")
    return store.df(sql + f" WHERE run_id IN ({ph(ids)}) ORDER BY run_id, name", ids)


def run_metrics(store: Store, run_id: int) -> pd.DataFrame:
    """A run's summary metrics: DataFrame[metric, k, value] sorted by metric, k."""
    return store.df("SELECT metric, k, value FROM metrics WHERE run_id = ? ORDER BY metric, k",
                    [int(run_id)])


def user_metrics(store: Store, run_id: int, metric: str | None = None,
                 k: int | None = None) -> pd.DataFrame:
    """Per-user metrics of a run: DataFrame[user_id, metric, k, value]."""
    sql = "SELECT user_id, metric, k, value FROM user_metrics WHERE run_id = ?"
    params: list = [int(run_id)]
    if metric is not None:
        sql += " AND metric = ?"
        params.append(metric)
    if k is not None:
        sql += " AND k = ?"
        params.append(int(k))
    return store.df(sql + " ORDER BY metric, k, user_id", params)


def user_metric_series(store: Store, run_id: int, metric: str, k: int) -> pd.Series:
    """One metric at one K for every evaluated user: Series indexed by user_id."""
    df = user_metrics(store, run_id, metric, k)
    s = pd.Series(df["value"].to_numpy(dtype="float64"),
                  index=pd.Index(df["user_id"].astype(object), name="user_id"),
                  name=f"{metric}@{int(k)}")
    return s


def recommendations(store: Store, run_id: int, user_ids: Iterable[str] | None = None,
                    k: int | None = None) -> pd.DataFrame:
    """A run's lists: DataFrame[user_id, rank, item_id, score] sorted by user_id, rank.

    ``user_ids`` restricts to those users; ``k`` keeps ranks 1..k.
    """
    where = "run_id = ?"
    params: list = [int(run_id)]
    if k is not None:
        where += " AND rank <= ?"
        params.append(int(k))
    cols = "user_id, CAST(rank AS INTEGER) AS rank, item_id, score"
    if user_ids is None:
        return store.df(f"SELECT {cols} FROM recommendations WHERE {where} ORDER BY user_id, rank",
                        params)
    ids = [str(u) for u in user_ids]
    if not ids:
        return pd.DataFrame({"user_id": pd.Series([], dtype=object), "rank": pd.Series([], dtype="int32"),
                             "item_id": pd.Series([], dtype=object), "score": pd.Series([], dtype="float64")})
    if len(ids) <= 1000:
        # Constants in IN (...) let DuckDB prune row groups by the user_id zonemaps.
        return store.df(f"SELECT {cols} FROM recommendations WHERE {where} AND user_id IN ({ph(ids)}) "
                        f"ORDER BY user_id, rank", params + ids)
    with store.connect() as con:
        con.register("_want_users", pd.DataFrame({"user_id": pd.Series(ids, dtype=object)}))
        return con.execute(f"SELECT {cols} FROM recommendations JOIN _want_users USING (user_id) "
                           f"WHERE {where} ORDER BY user_id, rank", params).df()


def unknown_ids(store: Store, dataset: str, what: str, ids: Iterable[str]) -> list[str]:
    """Those of ``ids`` that are not ``what`` ('user' or 'item') ids of ``dataset``, in order."""
    if what not in ("user", "item"):
        raise ValueError(f"what must be 'user' or 'item', not {what!r}")
    table, col = ("users", "user_id") if what == "user" else ("items", "item_id")
    want = pd.DataFrame({"id": pd.Series(list(dict.fromkeys(str(i) for i in ids)), dtype=object)})
    want["pos"] = np.arange(len(want))
    with store.connect() as con:
        con.register("_want_ids", want)
        df = con.execute(f"SELECT w.id FROM _want_ids w WHERE NOT EXISTS (SELECT 1 FROM {table} t "
                         f"WHERE t.dataset = ? AND t.{col} = w.id) ORDER BY w.pos", [dataset]).df()
    return df["id"].tolist()


def runs_info(store: Store, run_ids: Iterable) -> pd.DataFrame:
    """The listed runs (those that exist): run_id, dataset, split_id, algorithm, name,
    params (JSON text), source, status, k, n_users; in the order asked."""
    ids = sql_run_ids(run_ids)
    cols = ["run_id", "dataset", "split_id", "algorithm", "name", "params", "source", "status",
            "k", "n_users"]
    if not ids:
        return empty({c: "object" for c in cols})
    df = store.df(f"SELECT {', '.join(cols)} FROM runs WHERE run_id IN ({ph(ids)})", ids)
    order = {r: i for i, r in enumerate(ids)}
    return df.sort_values("run_id", key=lambda s: s.map(order)).reset_index(drop=True)


def run_splits(store: Store, run_ids: Iterable) -> pd.DataFrame:
    """DataFrame[run_id, dataset, split_id] of the listed runs, by run id."""
    ids = sql_run_ids(run_ids)
    if not ids:
        return empty({"run_id": "int64", "dataset": "object", "split_id": "float64"})
    return store.df(f"SELECT run_id, dataset, split_id FROM runs WHERE run_id IN ({ph(ids)}) "
                    f"ORDER BY run_id", ids)


def run_warnings(store: Store, run_ids: Iterable | None = None,
                 dataset: str | None = None) -> pd.DataFrame:
    """Health warnings: DataFrame[run_id, code, message, value] of the listed runs (or
    of ``dataset``'s runs, or of all), in run and insertion order."""
    sql = "SELECT w.run_id, w.code, w.message, w.value FROM run_warnings w"
    params: list = []
    where = []
    if run_ids is not None:
        ids = sql_run_ids(run_ids)
        if not ids:
            return empty({"run_id": "int64", "code": "object", "message": "object",
                          "value": "float64"})
        where.append(f"w.run_id IN ({ph(ids)})")
        params += ids
    if dataset is not None:
        sql += " JOIN runs r USING (run_id)"
        where.append("r.dataset = ?")
        params.append(dataset)
    if where:
        sql += " WHERE " + " AND ".join(where)
    return store.df(sql + " ORDER BY w.run_id", params)


def done_run_id(store: Store, split_id: int, algorithm: str) -> int | None:
    """The newest finished run of ``algorithm`` on split ``split_id``, or None."""
    v = store.scalar("SELECT max(run_id) FROM runs WHERE split_id = ? AND algorithm = ? "
                     "AND status = 'done' AND source = 'trained'", [int(split_id), str(algorithm)])
    return None if v is None else int(v)


def find_done_run(store: Store, dataset: str, split_id: int, algorithm: str, params: dict,
                  code_version: str) -> int | None:
    """The newest finished trained run with exactly these dataset, split, algorithm,
    parameters (compared as canonical JSON) and code version; None when there is none."""
    v = store.scalar("SELECT max(run_id) FROM runs WHERE dataset = ? AND split_id = ? AND "
                     "algorithm = ? AND params = ? AND code_version = ? AND status = 'done' "
                     "AND source = 'trained'",
                     [dataset, int(split_id), algorithm, canonical_json(params), code_version])
    return None if v is None else int(v)
