"""`recscope tune`: an Optuna study of one algorithm (``engine.services.tuning``)."""

from __future__ import annotations

import sys

from engine.backends import make_backend
from engine.validate import arg_float, arg_int
from engine.cli import add_db_arg, add_json_arg, get_store, print_json
from engine.commands.recs import _check_has_interactions, _check_split_args, _progress
from engine.errors import DataError
from engine.recommend import registry
from engine.report.text import fmt
from engine.services import tuning
from engine.store.tuning import get_study


def register(sub) -> None:
    p = sub.add_parser(
        "tune", help="tune one algorithm's parameters (Optuna), then train the best as a run",
        description="Search an algorithm's parameters with Optuna (TPE, seeded; median "
                    "pruning for ALS, BPR and LMF, local backend only). Trials are scored on a validation part "
                    "carved from the split's training part by the split's own rule (each "
                    "user's last training items, the same fraction, or a time cut inside the "
                    "training period), never on the test part. The best parameters are then "
                    "trained on the whole training part and evaluated on test as an ordinary "
                    "run. Every trial is stored; Ctrl-C keeps the finished ones and --study ID "
                    "resumes.")
    add_db_arg(p)
    p.add_argument("--dataset", metavar="NAME", help="dataset name in the store")
    p.add_argument("--algo", metavar="ALGO",
                   help=f"algorithm to tune: {', '.join(a for a in registry.available() if registry.spec(a).space)}")
    p.add_argument("--trials", type=arg_int(bound="trials", upper_only=True), default=30, help="trials to run (default 30)")
    p.add_argument("--timeout", type=arg_float(bound="timeout"), metavar="S", help="stop starting trials after S seconds")
    p.add_argument("--metric", default="ndcg", help="metric to optimise (default ndcg)")
    p.add_argument("--k", type=arg_int(bound="k", upper_only=True), default=10, help="its cut-off (default 10)")
    p.add_argument("--objectives", metavar="M@K,M@K",
                   help="two objectives at once, e.g. ndcg@10,coverage@10 (keeps the Pareto front)")
    p.add_argument("--space", action="append", default=[], metavar="ALGO.NAME=LOW..HIGH[:log]",
                   help="override a parameter's range (repeatable), e.g. "
                        "bpr.learning_rate=0.001..0.3:log; ALGO.NAME=VALUE pins it")
    p.add_argument("--study", type=arg_int(bound="id"), metavar="ID", help="resume study ID (its numbering continues)")
    p.add_argument("--split", default="auto", choices=["auto", "leave_last_n", "random", "time_cut"],
                   help="how to split train/test, as in `recscope train`")
    p.add_argument("--test-n", type=arg_int(bound="test_n", upper_only=True), metavar="N", help="leave_last_n: test items per user (default 1)")
    p.add_argument("--test-fraction", type=arg_float(), metavar="F",
                   help="random: fraction of each user's items in test (default 0.2)")
    p.add_argument("--time-cut", metavar="T", help="time_cut: a date or a quantile in (0, 1)")
    p.add_argument("--min-history", type=arg_int(bound="min_history", upper_only=True), metavar="N",
                   help="users need at least N positives to be tested (default 2)")
    p.add_argument("--min-weight", type=arg_float(), metavar="W",
                   help="positives only: interactions with weight >= W (e.g. 4 for ratings)")
    p.add_argument("--seed", type=arg_int(bound="seed"), default=0, help="seed of the split, the sampler and the models")
    p.add_argument("--neighbours", type=arg_int(bound="neighbours", upper_only=True), default=20, metavar="N",
                   help="similar items kept per item by the final run (default 20)")
    p.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="where trials run: here one by one (default), or on a Ray cluster, as "
                        "many at once as it has CPUs (one Optuna study on this machine, "
                        "ask-and-tell; trials are stored here as they finish, numbered in that "
                        "order; no pruning on Ray). The final run trains here.")
    p.add_argument("--ray-address", metavar="HOST:PORT",
                   help="with --backend ray: the cluster's address (as printed by `ray start "
                        "--head`); none starts a local Ray cluster")
    add_json_arg(p)
    p.set_defaults(func=cmd_tune)


def _fmt(v) -> str:
    return fmt(v, ".4f")


def _line(info: dict) -> str:
    vals = info["values"]
    shown = ", ".join(f"{o} {_fmt(v)}" for o, v in zip(info["objectives"], vals)) if vals \
        else ""
    if info["state"] != "COMPLETE":  # a pruned trial's value is its last intermediate one
        shown = f"{info['state'].lower()}" + (f" at {shown}" if shown else "")
    params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in sorted(info["params"].items()))
    best = ("" if info["best"] is None
            else f" | best {_fmt(info['best'])} (trial {info['best_number']})")
    return f"trial {info['number']}: {shown} in {info['seconds']:.1f} s{best} | {params}"


def cmd_tune(args) -> int:
    if args.study is None:
        _check_split_args(args)
    else:
        get_study(get_store(args), args.study)  # an unknown study is the first thing to say
        given = [flag for flag, v in (("--space", args.space), ("--objectives", args.objectives),
                                      ("--test-n", args.test_n), ("--test-fraction", args.test_fraction),
                                      ("--time-cut", args.time_cut), ("--min-history", args.min_history),
                                      ("--min-weight", args.min_weight)) if v]
        if given or args.split != "auto":
            raise DataError(f"A resumed study keeps its own split, space and objectives; drop "
                            f"{', '.join(given) or '--split'} or start a new study.")
    store = get_store(args)
    if args.study is None:
        if args.dataset is None:
            raise DataError("Name the dataset (--dataset), or a study to resume (--study).")
        _check_has_interactions(store, args.dataset)
    if args.timeout is not None and not args.timeout > 0:
        raise DataError(f"--timeout must be above 0 seconds, not {args.timeout}.")
    plan = tuning.plan_study(store, dataset=args.dataset, algo=args.algo, space_items=args.space,
                             objectives=args.objectives, metric=args.metric, k=args.k,
                             trials=args.trials, seed=args.seed, study_id=args.study)
    split_params = {}
    for attr, key in (("test_n", "n"), ("test_fraction", "fraction"), ("time_cut", "cut"),
                      ("min_history", "min_history")):
        if getattr(args, attr) is not None:
            split_params[key] = getattr(args, attr)
    if args.backend == "local" and args.ray_address:
        raise DataError("--ray-address needs --backend ray.")
    # connected (or refused in one sentence) before the study is written
    backend = (make_backend(args.backend, address=args.ray_address)
               if args.backend != "local" else None)
    progress = _progress()
    try:
        result = tuning.tune(store, plan, trials=args.trials, timeout=args.timeout,
                             split=args.split, split_params=split_params or None,
                             min_weight=args.min_weight, neighbours=args.neighbours,
                             on_trial=lambda info: print(_line(info), file=sys.stderr, flush=True),
                             progress=progress, backend=backend)
    finally:
        progress.close()
        if backend is not None:
            backend.close()
    if args.json:
        print_json({k: result[k] for k in ("study_id", "algorithm", "best_params", "best_value",
                                           "n_trials", "run_id")})
    else:
        print(f"study {result['study_id']}: {result['algorithm']}, {result['n_trials']} trials; "
              f"best trial {result['best_number']} ({_fmt(result['best_value']) if not isinstance(result['best_value'], list) else result['best_value']}) "
              f"with {result['best_params']}; final run {result['run_id']} on test"
              + ("" if result["status"] == "done" else f" FAILED: {result['error']}"))
    return 0 if result["status"] == "done" else 1
