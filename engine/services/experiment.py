"""Experiment files: a declarative, rerunnable experiment in TOML (`recscope experiment run`).

File layout (every table optional except ``data`` and ``algorithms``)::

    [data]                       # either an existing dataset ...
    dataset = "jobboard"
    [data.import]                # ... or an import spec with its column mapping
    kind = "movielens"           # movielens | csv
    path = "ml-100k"             # relative to the TOML file
    path_env = "RECSCOPE_ML100K" # optional: this variable, when set, gives the path
    name = "ml100k"              # the dataset name in the store
    # csv only: user_col, item_col (required), time_col, event_col, weight_col, items,
    # item_id_col, title_col, item_cols, user_cols, time_format, sep

    [split]                      # as `recscope train`
    method = "auto"              # auto | leave_last_n | random | time_cut
    test_n = 1; test_fraction = 0.2; time_cut = "0.8"; min_history = 2
    seed = 0; k = 20; min_weight = 4.0

    [algorithms.als]             # one table per algorithm; a list is a grid
    factors = [32, 64]
    [algorithms.popularity]

    [tuning]                     # an Optuna study (engine.services.tuning) on the split
    algorithm = "als"; trials = 20; metric = "ndcg@10"; timeout_seconds = 600; seed = 0
    [prediction]                 # checked, then refused: use `recscope predict train`

    [[reports]]                  # written after the runs (paths relative to the file)
    out = "report.html"
    metric = "ndcg"; k = 10

Reuse: the dataset is reused when the store holds one of that name with the same content
checksum (recorded in its info at import); a run is reused when a finished trained run
has the same dataset, split, algorithm, effective parameters and code version
(``engine.store.runs.find_done_run``); a tuning block is reused when a finished study of
that algorithm and objective on the same split has a final run made by this code
version. ``force`` trains (and tunes) anew. Everything in the file is
checked (keys, types, algorithm parameters, the import) before the store is written:
bad input raises ``DataError`` with one sentence and leaves the store unchanged.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.data.loaders import load_interactions_csv, load_movielens, parse_sep
from engine.errors import DataError
from engine.pipeline import code_version, effective_params, prepare_split, train_one
from engine.progress import ProgressFn, null_progress
from engine.recommend import registry
from engine.report.service import MAX_RUNS, ReportSpec, build
from engine.store.core import Store
from engine.store.datasets import dataset_checksum, dataset_exists, save_dataset
from engine.services.tuning import plan_study, tune
from engine.store.runs import find_done_run, get_run
from engine.store.tuning import list_studies

SPLIT_METHODS = ("auto", "leave_last_n", "random", "time_cut")
#: Runs one algorithm's grid may expand to.
MAX_GRID = 50

# key -> type(s) allowed, per table
_TOP = {"data": dict, "split": dict, "algorithms": dict, "tuning": dict, "prediction": dict,
        "reports": list}
_DATA = {"dataset": str, "import": dict}
_IMPORT = {"kind": str, "path": str, "path_env": str, "name": str, "user_col": (str, int),
           "item_col": (str, int), "time_col": (str, int), "event_col": (str, int),
           "weight_col": (str, int), "items": str, "item_id_col": (str, int),
           "title_col": (str, int), "item_cols": str, "user_cols": str, "time_format": str,
           "sep": str}
_SPLIT = {"method": str, "test_n": int, "test_fraction": float, "time_cut": str,
          "min_history": int, "seed": int, "k": int, "min_weight": float}
_TUNING = {"algorithm": str, "trials": int, "metric": str, "timeout_seconds": int,
           "seed": int}
_PREDICTION = {"model": str, "target": str, "algorithm": str}
_REPORT = {"out": str, "metric": str, "k": int, "algorithms": list}


@dataclass
class Experiment:
    path: Path
    dataset: str
    import_spec: dict | None
    split: dict
    algorithms: dict[str, list[dict]]      # algorithm -> parameter sets (the grid expanded)
    tuning: dict | None = None
    prediction: dict | None = None
    reports: list[dict] = field(default_factory=list)


# --------------------------------------------------------------------------- reading


def _closest(key: str, valid) -> str:
    near = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
    return f" (did you mean {near[0]!r}?)" if near else f" (valid: {', '.join(sorted(valid))})"


def _check_table(table: dict, schema: dict, where: str, file: Path) -> None:
    for key, value in table.items():
        if key not in schema:
            raise DataError(f"{file}: unknown key {key!r} in {where}{_closest(key, schema)}.")
        want = schema[key]
        ok = isinstance(value, want) and not (isinstance(value, bool) and want in (int, float))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            names = " or ".join(t.__name__ for t in (want if isinstance(want, tuple) else (want,)))
            raise DataError(f"{file}: {where}.{key} must be a {names}, not {value!r}.")


def load(path: str | os.PathLike) -> Experiment:
    """Read and check an experiment file (nothing is written)."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"There is no experiment file {str(file)!r}.")
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line N, column M)"
        raise DataError(f"{file} is not valid TOML: {exc}.") from None
    except UnicodeDecodeError:
        raise DataError(f"{file} is not UTF-8 text.") from None
    _check_table(raw, _TOP, "the file", file)
    for need in ("data", "algorithms"):
        if need not in raw:
            raise DataError(f"{file} has no [{need}] table; see docs/batch.md for the layout.")
    data = raw["data"]
    _check_table(data, _DATA, "[data]", file)
    if ("dataset" in data) == ("import" in data):
        raise DataError(f"{file}: [data] needs either dataset = \"NAME\" or an [data.import] "
                        f"table, not both or neither.")
    spec = None
    if "import" in data:
        spec = dict(data["import"])
        _check_table(spec, _IMPORT, "[data.import]", file)
        for need in ("kind", "name"):
            if need not in spec:
                raise DataError(f"{file}: [data.import] needs {need} = ...")
        if spec["kind"] not in ("movielens", "csv"):
            raise DataError(f"{file}: [data.import] kind must be movielens or csv, not "
                            f"{spec['kind']!r}{_closest(spec['kind'], ('movielens', 'csv'))}.")
        if spec["kind"] == "csv" and not ("user_col" in spec and "item_col" in spec):
            raise DataError(f"{file}: a csv import needs user_col and item_col.")
        spec["path"] = str(_data_path(spec, file))
    dataset = spec["name"] if spec else data["dataset"]
    split = dict(raw.get("split", {}))
    _check_table(split, _SPLIT, "[split]", file)
    if split.get("method", "auto") not in SPLIT_METHODS:
        raise DataError(f"{file}: [split] method must be one of {', '.join(SPLIT_METHODS)}, not "
                        f"{split['method']!r}{_closest(split['method'], SPLIT_METHODS)}.")
    _check_split(split, file)
    algos = _algorithms(raw["algorithms"], file, int(split.get("seed", 0)))
    tuning = raw.get("tuning")
    if tuning is not None:
        _check_table(tuning, _TUNING, "[tuning]", file)
        if tuning.get("algorithm") not in algos:
            raise DataError(f"{file}: [tuning] algorithm must name one of [algorithms] "
                            f"({', '.join(algos)}).")
    prediction = raw.get("prediction")
    if prediction is not None:
        _check_table(prediction, _PREDICTION, "[prediction]", file)
    reports = []
    for i, rep in enumerate(raw.get("reports", [])):
        if not isinstance(rep, dict):
            raise DataError(f"{file}: each [[reports]] entry is a table.")
        _check_table(rep, _REPORT, f"[[reports]] #{i + 1}", file)
        if "out" not in rep:
            raise DataError(f"{file}: [[reports]] #{i + 1} needs out = \"FILE.html\".")
        for a in rep.get("algorithms", []):
            if a not in algos:
                raise DataError(f"{file}: [[reports]] #{i + 1} names algorithm {a!r}, which is "
                                f"not in [algorithms]{_closest(str(a), algos)}.")
        reports.append({**rep, "out": str((file.parent / rep["out"]).resolve())})
    return Experiment(file, dataset, spec, split, algos, tuning, prediction, reports)


def _check_split(split: dict, file: Path) -> None:
    """What `recscope train` refuses, refused before anything is imported."""
    method = split.get("method", "auto")
    applies = {"test_n": ("auto", "leave_last_n"), "test_fraction": ("auto", "random"),
               "time_cut": ("time_cut",)}
    for key, methods in applies.items():
        if key in split and method not in methods:
            raise DataError(f"{file}: [split] {key} applies to method "
                            f"{' or '.join(m for m in methods if m != 'auto')}, not {method}.")
    if "test_n" in split and "test_fraction" in split:
        raise DataError(f"{file}: [split] test_n and test_fraction ask for different splits; "
                        f"give one of them.")
    if split.get("test_n", 1) < 1 or split.get("min_history", 1) < 1 or split.get("k", 1) < 1:
        raise DataError(f"{file}: [split] test_n, min_history and k must be at least 1.")
    if not 0 < split.get("test_fraction", 0.5) < 1:
        raise DataError(f"{file}: [split] test_fraction must lie between 0 and 1 (exclusive).")


def _data_path(spec: dict, file: Path) -> Path:
    env = spec.get("path_env")
    if env and os.environ.get(env):
        p = Path(os.environ[env]).expanduser()
    elif "path" in spec:
        p = (file.parent / spec["path"]).resolve()
    else:
        raise DataError(f"{file}: [data.import] needs path = ... (or path_env naming a "
                        f"variable that is set).")
    if not p.exists():
        hint = f"; set ${env} to where it is" if env else ""
        raise DataError(f"{file}: the data path {str(p)!r} does not exist{hint}.")
    return p


def _algorithms(table: dict, file: Path, seed: int) -> dict[str, list[dict]]:
    if not table:
        raise DataError(f"{file}: [algorithms] names no algorithm; add e.g. [algorithms.als].")
    out = {}
    for name, params in table.items():
        if name not in registry.ALGORITHMS:
            raise DataError(f"{file}: unknown algorithm {name!r} in [algorithms]"
                            f"{_closest(name, registry.available())}.")
        if not isinstance(params, dict):
            raise DataError(f"{file}: [algorithms.{name}] must be a table of parameters.")
        grid_keys = [k for k, v in params.items() if isinstance(v, list)]
        fixed = {k: v for k, v in params.items() if not isinstance(v, list)}
        combos = list(itertools.product(*(params[k] for k in grid_keys)))
        if len(combos) > MAX_GRID:
            raise DataError(f"{file}: [algorithms.{name}] expands to {len(combos)} runs; at "
                            f"most {MAX_GRID} (a tuning block searches larger spaces).")
        sets = [{**fixed, **dict(zip(grid_keys, c))} for c in combos]
        known = set(registry.make(name, seed=seed).params)
        for p in sets:
            for key in p:
                if key not in known:
                    raise DataError(f"{file}: unknown parameter {key!r} of {name}"
                                    f"{_closest(key, known)}.")
            try:
                registry.make(name, seed=seed, **p)   # the registry's own range checks
            except DataError as exc:
                raise DataError(f"{file}: [algorithms.{name}]: {exc}") from None
            except (TypeError, ValueError) as exc:
                raise DataError(f"{file}: [algorithms.{name}] parameters {p}: {exc}.") from None
        out[name] = sets
    return out


# --------------------------------------------------------------------------- running


def content_checksum(ds) -> str:
    """sha256 of the dataset's interactions and item table (pandas' row hashes, so the
    order of columns and the values decide it, not the file's layout)."""
    h = hashlib.sha256()
    for frame in (ds.interactions, ds.items):
        h.update(pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False)
                 .to_numpy().tobytes())
    return h.hexdigest()


def _load_import(spec: dict, progress: ProgressFn):
    if spec["kind"] == "movielens":
        return load_movielens(spec["path"], spec["name"], progress=progress)
    return load_interactions_csv(
        spec["path"], spec["name"], spec["user_col"], spec["item_col"],
        time_col=spec.get("time_col"), event_col=spec.get("event_col"),
        weight_col=spec.get("weight_col"), items_path=spec.get("items"),
        item_id_col=spec.get("item_id_col"), title_col=spec.get("title_col"),
        sep=parse_sep(spec.get("sep")), item_cols=spec.get("item_cols"),
        user_cols=spec.get("user_cols"), time_format=spec.get("time_format"), progress=progress)


def prepare_data(store: Store, exp: Experiment, progress: ProgressFn = null_progress) -> dict:
    """Import the data (or check the named dataset); {dataset, reused}. Raises DataError
    before writing when the import fails or the name holds other data."""
    if exp.import_spec is None:
        if not dataset_exists(store, exp.dataset):
            raise DataError(f"{exp.path}: [data] dataset {exp.dataset!r} is not in the store "
                            f"{store.path}.")
        return {"dataset": exp.dataset, "reused": True}
    ds = _load_import(exp.import_spec, progress)          # the importer's own sentence
    checksum = content_checksum(ds)
    if dataset_exists(store, ds.name):
        if dataset_checksum(store, ds.name) == checksum:
            return {"dataset": ds.name, "reused": True}
        raise DataError(f"{exp.path}: the store already holds a dataset {ds.name!r} with other "
                        f"content; give [data.import] another name.")
    ds.info["content_checksum"] = checksum
    save_dataset(store, ds)
    return {"dataset": ds.name, "reused": False}


def _split_args(split: dict) -> tuple[str, dict | None, int, int, float | None]:
    method = split.get("method", "auto")
    params = {}
    for key, name in (("test_n", "n"), ("test_fraction", "fraction"), ("time_cut", "cut"),
                      ("min_history", "min_history")):
        if key in split:
            params[name] = split[key]
    if method == "auto" and "test_fraction" in split:
        method = "random"
    elif method == "auto" and "test_n" in split:
        method = "leave_last_n"
    mw = split.get("min_weight")
    return method, params or None, int(split.get("seed", 0)), int(split.get("k", 20)), \
        None if mw is None else float(mw)


def run(store: Store, exp: Experiment, *, force: bool = False, only: str | None = None,
        progress: ProgressFn = null_progress, created: str | None = None) -> dict:
    """Run (or reuse) every step. Returns {dataset, dataset_reused, runs: [{run_id,
    algorithm, params, status, reused, error}], reports: [paths], skipped: [sentences],
    failed: bool}."""
    if only is not None and only not in exp.algorithms:
        raise DataError(f"--only {only!r} is not an algorithm of {exp.path}"
                        f"{_closest(only, exp.algorithms)}.")
    tune_plan = None
    if exp.tuning is not None and (only is None or only == exp.tuning["algorithm"]):
        metric, _, k_text = str(exp.tuning.get("metric", "ndcg@10")).partition("@")
        tune_plan = plan_study(store, dataset=None, algo=exp.tuning["algorithm"],
                               metric=metric, k=int(k_text or 10),
                               trials=int(exp.tuning.get("trials", 30)),
                               seed=int(exp.tuning.get("seed", 0)))
    if exp.prediction is not None:
        raise DataError(f"{exp.path}: experiment files do not run a [prediction] block yet; "
                        f"remove it and train the model with `recscope predict train`.")
    data = prepare_data(store, exp, progress)
    method, sparams, seed, k, min_weight = _split_args(exp.split)
    split = prepare_split(store, data["dataset"], k=k, split=method, split_params=sparams,
                          seed=seed, min_weight=min_weight, progress=progress)
    version = code_version()
    runs = []
    for algo, sets in exp.algorithms.items():
        if only is not None and algo != only:
            continue
        for params in sets:
            model = registry.make(algo, seed=seed, **params)
            full = effective_params(model, split.event_weights, split.min_weight)
            old = None if force else find_done_run(store, data["dataset"], split.split_id, algo,
                                                    full, version)
            if old is not None:
                runs.append({"run_id": old, "algorithm": algo, "params": params,
                             "status": "done", "reused": True, "error": None})
                continue
            res = train_one(store, split, algo, params, seed=seed, progress=progress)
            runs.append({"run_id": res["run_id"], "algorithm": algo, "params": params,
                         "status": res.get("status", "done"), "reused": False,
                         "error": res.get("error")})
    study = None
    if tune_plan is not None:
        study = _tune_or_reuse(store, exp, tune_plan, data["dataset"], split, version,
                               force=force, progress=progress)
        if study.get("run_id") is not None:
            runs.append({"run_id": int(study["run_id"]), "algorithm": tune_plan.algorithm,
                         "params": study.get("best_params") or {}, "reused": study["reused"],
                         "status": "done" if study.get("status", "done") in ("done", "finished")
                         else study["status"], "error": None, "study_id": study["study_id"]})
    failed = any(r["status"] != "done" for r in runs)
    reports, skipped = [], []
    for rep in exp.reports:
        if only is not None:
            skipped.append(f"report {rep['out']} (written by a run without --only)")
            continue
        ids = [r["run_id"] for r in runs if r["status"] == "done"
               and (not rep.get("algorithms") or r["algorithm"] in rep["algorithms"])]
        if not ids:
            skipped.append(f"report {rep['out']} (no finished run)")
            continue
        spec = ReportSpec("runs", dataset=data["dataset"], runs=tuple(ids[:MAX_RUNS]),
                          metric=rep.get("metric", "ndcg"), k=int(rep.get("k", 10)))
        Path(rep["out"]).write_bytes(build(store, spec, created=created).encode("utf-8"))
        reports.append(rep["out"])
        if len(ids) > MAX_RUNS:
            skipped.append(f"runs {', '.join(map(str, ids[MAX_RUNS:]))} left out of {rep['out']} "
                           f"(a report shows at most {MAX_RUNS})")
    return {"file": str(exp.path), "dataset": data["dataset"], "dataset_reused": data["reused"],
            "split_id": split.split_id, "runs": runs, "reports": reports, "skipped": skipped,
            "study": study, "failed": failed}


def _tune_or_reuse(store: Store, exp: Experiment, plan, dataset: str, split, version: str, *,
                   force: bool, progress: ProgressFn) -> dict:
    """The file's [tuning] block: a finished study of the same algorithm and objectives on
    this split whose final run this code version made is reused (unless ``force``); else a
    new study runs on the split's training part (``engine.services.tuning.tune``)."""
    wanted = [f"{m}@{k}" for m, k in plan.objectives]
    if not force:
        old = list_studies(store, dataset)
        for row in old.itertuples(index=False):
            if (row.algorithm == plan.algorithm and row.split_id == split.split_id
                    and list(row.objectives) == wanted and row.run_id is not None
                    and not pd.isna(row.run_id)
                    and get_run(store, int(row.run_id)).get("code_version") == version):
                return {"study_id": int(row.study_id), "run_id": int(row.run_id),
                        "best_value": None, "best_params": None, "reused": True}
    plan.dataset, plan.split_id = dataset, split.split_id
    timeout = exp.tuning.get("timeout_seconds")
    out = tune(store, plan, trials=int(exp.tuning.get("trials", 30)),
               timeout=None if timeout is None else float(timeout), progress=progress)
    return {**out, "reused": False}
