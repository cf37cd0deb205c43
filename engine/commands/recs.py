"""Recommender commands: `recscope train`, `runs`, `metrics`, `compare`, `import run`."""

from __future__ import annotations

import argparse
import json
import math
import sys

import pandas as pd

from engine.backends import make_backend
from engine.cli import add_db_arg, add_json_arg, get_store, print_json
from engine.errors import DataError
from engine.evaluate.stats import second_minus_first
from engine.importrun import import_run
from engine.pipeline import N_NEIGHBOURS, compare_runs, train_runs
from engine.progress import TqdmProgress
from engine.recommend import registry
from engine.store.datasets import list_datasets, require_dataset
from engine.store.runs import get_run, list_splits, run_metrics, run_warnings, runs_with_metrics
from engine.validate import arg_float, arg_int, arg_name


def _progress():
    # Bars in a terminal only: logs and captured output stay clean.
    return TqdmProgress(disable=not sys.stderr.isatty())


def register(sub) -> None:
    p = sub.add_parser("train", help="train recommenders on a dataset (one run each)",
                       description="Split a dataset (or reuse the identical stored split), train "
                                   "each algorithm, recommend top-K for every test user, evaluate "
                                   "and store one run per algorithm.")
    add_db_arg(p)
    p.add_argument("--dataset", required=True, metavar="NAME", help="dataset name in the store")
    p.add_argument("--algos", required=True, metavar="A,B,...",
                   help=f"comma-separated algorithms: {', '.join(registry.available())}")
    p.add_argument("--k", type=arg_int(bound="k", upper_only=True), default=20, help="list length (default 20; lists are at "
                                                     "least 20 long so @10 and @20 are comparable)")
    p.add_argument("--split", default="auto",
                   choices=["auto", "leave_last_n", "random", "time_cut"],
                   help="how to split train/test (default auto: leave_last_n when the data "
                        "has timestamps, else random; with --test-fraction, random)")
    p.add_argument("--test-n", type=arg_int(bound="test_n", upper_only=True), metavar="N", help="leave_last_n: test items per user (default 1)")
    p.add_argument("--test-fraction", type=arg_float(), metavar="F",
                   help="random: fraction of each user's items in test (default 0.2)")
    p.add_argument("--time-cut", metavar="T", help="time_cut: interactions at or after T are test; "
                   "T is a date (2024-01-31) or a quantile of event times in (0, 1), e.g. 0.8")
    p.add_argument("--min-history", type=arg_int(bound="min_history", upper_only=True), metavar="N",
                   help="users need at least N positives to be tested (default 2)")
    p.add_argument("--seed", type=arg_int(bound="seed"), default=0, help="random seed (default 0)")
    p.add_argument("--min-weight", type=arg_float(), metavar="W",
                   help="positives only: interactions with weight >= W (e.g. 4 for ratings)")
    p.add_argument("--model-seed", type=arg_int(bound="seed"), default=None, metavar="N",
                   help="seed of the models (default: --seed); with the same --seed, the "
                        "split stays and only the models' random starts change")
    p.add_argument("--neighbours", type=arg_int(bound="neighbours", upper_only=True), default=None, metavar="N",
                   help="similar items kept per item for the Item page (default 20; 0 keeps "
                        "none, which saves time on catalogues of tens of thousands of items)")
    p.add_argument("--param", action="append", default=[], metavar="ALGO.NAME=VALUE",
                   help="algorithm parameter, repeatable, e.g. --param als.factors=64")
    p.add_argument("--folds", type=arg_int(bound="cv_folds", upper_only=True), default=None, metavar="N",
                   help="cross-validate: N folds, one run per fold and algorithm, grouped. "
                        "random / leave_last_n: the test users are dealt into N groups and fold "
                        "f tests group f (the others' held-out items join training), so each "
                        "user is tested once; time_cut: N rolling time windows over the second "
                        "half of the log, each trained on everything before it. The Runs page "
                        "shows the mean over folds with a 95%% t interval; paired tests pair "
                        "per-user values by (fold, user)")
    p.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="where the work runs: local (this process, the default) or ray. On "
                        "ray, several runs (the algorithms of --algos, the folds of --folds) "
                        "are one Ray task each (fit, score and evaluate on a worker); a "
                        "single run is fitted here and its scoring and per-user evaluation "
                        "fan out over user shards. Only this process writes the store")
    p.add_argument("--ray-address", metavar="HOST:PORT", default=None,
                   help="with --backend ray: the cluster's address (as printed by `ray start "
                        "--head`; default: start a local Ray cluster for this command)")
    p.add_argument("--spill-dir", metavar="DIR", default=None,
                   help="with --backend ray: workers write their shards (or runs) as Parquet here (a "
                        "folder every node sees) instead of returning them through Ray")
    add_json_arg(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("runs", help="list runs with their status and main metrics",
                       description="List the runs in the store (one row per run).")
    add_db_arg(p)
    p.add_argument("--dataset", metavar="NAME", help="only this dataset's runs")
    add_json_arg(p)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("metrics", help="the metrics of one run",
                       description="Print the summary metrics of one run.")
    add_db_arg(p)
    p.add_argument("run_id", metavar="RUN_ID", type=_run_id)
    p.add_argument("--relevance", default="any", choices=["any", "apply", "hire"],
                   help="judge the lists against all held-out events (any, default) or only "
                        "held-out applications / hires")
    add_json_arg(p)
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("compare", help="compare two runs: list overlap and paired tests",
                       description="Overlap of two runs' lists (mean Jaccard, RBO, Kendall tau "
                                   "over the users both cover) and a paired test of one "
                                   "per-user metric.")
    add_db_arg(p)
    p.add_argument("run_a", metavar="RUN_A", type=_run_id)
    p.add_argument("run_b", metavar="RUN_B", type=_run_id)
    p.add_argument("--metric", default="ndcg", help="per-user metric to test (default ndcg)")
    p.add_argument("--k", type=arg_int(bound="k", upper_only=True), default=10, help="cut-off for the metric and overlap (default 10)")
    p.add_argument("--relevance", default="any", choices=["any", "apply", "hire"],
                   help="held-out events that count as hits: any (default), apply, hire")
    add_json_arg(p)
    p.set_defaults(func=cmd_compare)

    imp = sub.choices.get("import")
    isub = getattr(imp, "_recscope_sub", None) if imp is not None else None
    if isub is None:  # the data commands are absent: make the group here
        imp = sub.add_parser("import", help="import a dataset or a run",
                             description="Import into the store.")
        isub = imp.add_subparsers(dest="source", metavar="SOURCE", parser_class=type(imp))
        isub.required = True
        imp._recscope_sub = isub
    p = isub.add_parser("run", help="top-K lists from another system (CSV/Parquet), as a run",
                        description="Import the top-K lists of a system outside recscope from a "
                                    "CSV or Parquet file with columns user_id, item_id and rank "
                                    "(1 = best) or score (higher = better), and evaluate them on "
                                    "a split of the dataset like a trained run.")
    p.add_argument("file", metavar="FILE")
    add_db_arg(p)
    p.add_argument("--dataset", required=True, metavar="NAME", help="dataset the ids belong to")
    p.add_argument("--name", required=True, type=arg_name("--name"), help="name of the run (its algorithm column)")
    p.add_argument("--split-id", type=arg_int(bound="id"), metavar="N",
                   help="split to evaluate on (default: the dataset's latest split)")
    p.add_argument("--k", type=arg_int(bound="k", upper_only=True), metavar="K", help="keep each user's first K items")
    add_json_arg(p)
    p.set_defaults(func=cmd_import_run)


def _run_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a run id is a whole number, not {text!r}") from None


def _value(text: str):
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_params(items: list[str]) -> dict[str, dict]:
    """['als.factors=64', 'bpr.learning_rate=0.05'] -> {'als': {'factors': 64}, ...}."""
    out: dict[str, dict] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        algo, dot, name = key.strip().partition(".")
        if not sep or not dot or not algo or not name:
            raise DataError(f"--param {item!r} is not of the form ALGO.NAME=VALUE "
                            f"(e.g. als.factors=64).")
        out.setdefault(algo, {})[name] = _value(value)
    return out


def _clean(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            return v
        return None if isinstance(v, float) and math.isnan(v) else v
    return v


def _records(df) -> list[dict]:
    recs = []
    for row in df.to_dict(orient="records"):
        recs.append({k: (None if (v is pd.NaT or v is None or (not isinstance(v, (str, dict, list))
                                                              and pd.isna(v))) else _clean(v))
                     for k, v in row.items()})
    return recs


# --------------------------------------------------------------------------- commands

def _check_split_args(args) -> None:
    """Split options that the chosen --split would silently ignore, or out of range."""
    applies = {"test_n": ("--test-n", ("auto", "leave_last_n")),
               "test_fraction": ("--test-fraction", ("auto", "random")),
               "time_cut": ("--time-cut", ("time_cut",))}
    for attr, (flag, methods) in applies.items():
        if getattr(args, attr) is not None and args.split not in methods:
            raise DataError(f"{flag} applies to --split {' or '.join(m for m in methods if m != 'auto')}, "
                            f"not --split {args.split}; drop it or change --split.")
    if args.split == "auto" and args.test_n is not None and args.test_fraction is not None:
        raise DataError("--test-n (leave_last_n) and --test-fraction (random) ask for different "
                        "splits; give one of them, or name the --split.")
    if args.split == "auto" and args.test_fraction is not None:
        args.split = "random"        # a fraction only means something to the random split
    elif args.split == "auto" and args.test_n is not None:
        args.split = "leave_last_n"
    if args.test_n is not None and args.test_n < 1:
        raise DataError(f"--test-n must be at least 1, not {args.test_n}.")
    if args.test_fraction is not None and not 0 < args.test_fraction < 1:
        raise DataError(f"--test-fraction must be between 0 and 1 (exclusive), not {args.test_fraction}.")
    if args.min_history is not None and args.min_history < 1:
        raise DataError(f"--min-history must be at least 1, not {args.min_history}.")


def _check_has_interactions(store, dataset: str) -> None:
    require_dataset(store, dataset)
    ds = list_datasets(store).set_index("name").loc[dataset]
    if not (ds["n_interactions"] or 0) > 0:
        raise DataError(f"Dataset {dataset!r} holds reviews but no interactions, so there is "
                        f"nothing to train recommenders on; `recscope reviews train --dataset "
                        f"{dataset}` trains its review classifier.")


def cmd_train(args) -> int:
    _check_split_args(args)
    store = get_store(args)
    _check_has_interactions(store, args.dataset)
    split_params = {}
    if args.test_n is not None:
        split_params["n"] = args.test_n
    if args.test_fraction is not None:
        split_params["fraction"] = args.test_fraction
    if args.time_cut is not None:
        split_params["cut"] = args.time_cut
    if args.min_history is not None:
        split_params["min_history"] = args.min_history
    if args.backend == "local" and (args.ray_address or args.spill_dir):
        raise DataError("--ray-address and --spill-dir need --backend ray.")
    # connected before any run row exists: an unreachable cluster leaves nothing 'running'
    backend = make_backend(args.backend, address=args.ray_address, spill_dir=args.spill_dir)
    if args.folds is not None:
        return _train_folds(args, store, split_params, backend)
    progress = _progress()
    try:
        results = train_runs(store, args.dataset, args.algos.split(","), k=args.k,
                             split=args.split, split_params=split_params or None, seed=args.seed,
                             params=parse_params(args.param), min_weight=args.min_weight,
                             neighbours=N_NEIGHBOURS if args.neighbours is None else args.neighbours,
                             model_seed=args.model_seed,
                             progress=progress, backend=backend)
    finally:
        progress.close()
        backend.close()
    if args.json:
        print_json([{"run_id": r["run_id"], "algorithm": r["algorithm"], "split_id": r["split_id"]}
                    for r in results])
    else:
        for r in results:
            state = "done" if r.get("status", "done") == "done" else "FAILED"
            print(f"run {r['run_id']}: {r['algorithm']} on split {r['split_id']} - {state}")
    failed = [r for r in results if r.get("status") == "failed"]
    for r in failed:
        print(f"error: run {r['run_id']} ({r['algorithm']}) failed: {r['error']}", file=sys.stderr)
    return 1 if failed else 0


def _train_folds(args, store, split_params, backend) -> int:
    from engine.services.tuning import train_folds

    progress = _progress()
    try:
        results = train_folds(store, args.dataset, args.algos.split(","), args.folds, k=args.k,
                              split=args.split, split_params=split_params or None,
                              seed=args.seed, params=parse_params(args.param),
                              min_weight=args.min_weight,
                              neighbours=0 if args.neighbours is None else args.neighbours,
                              model_seed=args.model_seed, progress=progress,
                              backend=None if backend.name == "local" else backend)
    finally:
        progress.close()
        backend.close()
    if args.json:
        print_json([{"run_id": r["run_id"], "algorithm": r["algorithm"], "split_id": r["split_id"],
                     "fold": r["fold"], "fold_group": r["fold_group"]} for r in results])
    else:
        for r in results:
            state = "done" if r["status"] == "done" else "FAILED"
            print(f"run {r['run_id']}: {r['algorithm']} fold {r['fold'] + 1} of {args.folds} "
                  f"(group {r['fold_group']}) on split {r['split_id']} - {state}")
    failed = [r for r in results if r["status"] == "failed"]
    for r in failed:
        print(f"error: run {r['run_id']} ({r['algorithm']}) failed: {r['error']}", file=sys.stderr)
    return 1 if failed else 0


def cmd_runs(args) -> int:
    store = get_store(args)
    if args.dataset is not None:  # a misspelt name is an error, not "no runs"
        require_dataset(store, args.dataset)
    df = runs_with_metrics(store, args.dataset)
    warned = run_warnings(store, dataset=args.dataset)
    by_run = {int(rid): [{"code": c, "message": m} for c, m in zip(g["code"], g["message"])]
              for rid, g in warned.groupby("run_id", sort=False)}
    if args.json:
        rows = _records(df)
        for r in rows:
            r["params"] = json.loads(r["params"] or "{}")
            r["changed_params"] = registry.non_default_params(r["algorithm"], r["params"])
            r["warnings"] = by_run.get(int(r["run_id"]), [])
        print_json(rows)
        return 0
    if df.empty:
        print("no runs" + (f" for dataset {args.dataset!r}" if args.dataset else "")
              + "; `recscope train --dataset NAME --algos als,bpr` makes some.")
        return 0
    df = df.assign(changed=[registry.changed_text(a, p) for a, p in zip(df["algorithm"], df["params"])],
                   warnings=[len(by_run.get(int(r), [])) or "" for r in df["run_id"]])
    cols = ["run_id", "dataset", "split_id", "algorithm", "changed", "source", "status", "k",
            "n_users", "fit_seconds", "recommend_seconds"]
    cols += [c for c in ("ndcg@10", "recall@10", "precision@10", "coverage@10") if c in df.columns]
    cols += ["warnings"] if by_run else []
    show = df[cols].rename(columns={"fit_seconds": "fit_s", "recommend_seconds": "rec_s"})
    print(show.to_string(index=False, float_format=lambda x: f"{x:.4f}", na_rep="-"))
    for _, r in df[df["status"] == "failed"].iterrows():
        print(f"run {r['run_id']} failed: {r['error']}")
    for rid in df["run_id"]:
        for w in by_run.get(int(rid), []):
            print(f"run {rid} warning: {w['message']}")
    return 0


def cmd_metrics(args) -> int:
    store = get_store(args)
    run = get_run(store, args.run_id)
    relevance = getattr(args, "relevance", "any")
    if relevance != "any":
        from engine.services import relevance as rel

        rel.check(relevance, run["dataset"], store)
        m = rel.run_metrics(store, [args.run_id], relevance)[["metric", "k", "value"]]
    else:
        m = run_metrics(store, args.run_id)
    if args.json:
        print_json({"run_id": run["run_id"], **({"relevance": relevance} if relevance != "any" else {}),
                    "metrics": [{"metric": r["metric"], "k": int(r["k"]), "value": _clean(r["value"])}
                                for r in m.to_dict(orient="records")]})
        return 0
    print(f"run {run['run_id']}: {run['algorithm']} on {run['dataset']} (split {run['split_id']}), "
          f"status {run['status']}")
    if run["status"] == "failed":
        print(f"failed: {run['error']}")
        return 0
    if m.empty:
        print("no metrics")
        return 0
    wide = m.pivot_table(index="metric", columns="k", values="value", aggfunc="first")
    wide.columns = [f"@{c}" for c in wide.columns]
    print(wide.to_string(float_format=lambda x: f"{x:.4f}", na_rep="-"))
    return 0


def cmd_compare(args) -> int:
    res = compare_runs(get_store(args), args.run_a, args.run_b, metric=args.metric, k=args.k,
                       relevance=getattr(args, "relevance", "any"))
    if args.json:
        print_json({k: _clean(v) for k, v in res.items()})
        return 0
    m = f"{res['metric']}@{res['k']}"
    print(f"run {res['run_a']} ({res['algorithm_a']}) vs run {res['run_b']} ({res['algorithm_b']})")
    if not res["same_split"]:
        print("note: the two runs were evaluated on different splits; the paired test uses the "
              "users both evaluated.")
    print(f"list overlap @{res['k']} over {res['n_overlap_users']} shared users: "
          f"Jaccard {_fmt(res['mean_jaccard'])}, RBO {_fmt(res['mean_rbo'])}, "
          f"Kendall tau {_fmt(res['mean_kendall_tau'])}")
    # the text says B − A, the code base's sign convention (engine.evaluate.stats); the
    # JSON keeps compare_runs' A − B
    ba = second_minus_first(res)
    print(f"{m} over {res['n']} paired users: A {_fmt(res['mean_a'])}, B {_fmt(res['mean_b'])}, "
          f"B - A {_fmt(ba['mean_diff'])} (95% CI {_fmt(ba['ci_low'])} .. {_fmt(ba['ci_high'])})")
    print(f"paired t-test p = {_fmt(res['p_value_t'], 'g')}, Wilcoxon p = "
          f"{_fmt(res['p_value_wilcoxon'], 'g')}; B better for {ba['wins']} users, tied for "
          f"{res['ties']}, worse for {ba['losses']}")
    return 0


def _fmt(v, spec: str = ".4f") -> str:
    v = _clean(v)
    return "-" if v is None else format(v, spec)


def cmd_import_run(args) -> int:
    store = get_store(args)
    run_id = import_run(store, args.file, args.dataset, args.name, split_id=args.split_id, k=args.k)
    run = get_run(store, run_id)
    if args.json:
        print_json({"run_id": run_id, "algorithm": run["algorithm"], "split_id": run["split_id"]})
        return 0
    m = run_metrics(store, run_id)
    nd = m[(m["metric"] == "ndcg") & (m["k"] == 10)]["value"]
    extra = f", ndcg@10 {nd.iloc[0]:.4f}" if len(nd) else ""
    n_listed = (run.get("params") or {}).get("users_listed", run["n_users"])
    print(f"imported run {run_id}: {run['algorithm']!r} with lists for {n_listed:,} users, "
          f"evaluated on the {run['n_users']:,} test users of split {run['split_id']}{extra}")
    if args.split_id is None:
        n_splits = len(list_splits(store, args.dataset))
        if n_splits > 1:
            print(f"note: {args.dataset!r} has {n_splits} splits and none was named, so the "
                  f"newest (split {run['split_id']}) was used; `--split-id N` chooses the one "
                  f"the lists should be judged on.", file=sys.stderr)
    return 0
