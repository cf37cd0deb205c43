"""Funnel prediction commands: `recscope predict train | models | rerank`."""

from __future__ import annotations

import sys

from engine.validate import arg_float, arg_int
from engine.cli import add_db_arg, add_json_arg, get_store, print_json
from engine.report.text import fmt
from engine.services import predict as P

JSON_KEYS = ("model_id", "target", "roc_auc", "pr_auc", "log_loss", "brier", "ece", "base_rate",
             "n_train", "n_test", "baselines", "oracle_roc_auc", "oracle_ece")


def register(sub) -> None:
    pr = sub.add_parser("predict", help="application / hire prediction models and re-ranking",
                        description="Models that predict, for a user and an item, the chance of a "
                                    "target event (apply, hire, or a rating condition such as "
                                    "'rating>=4') given an earlier event (a view).")
    psub = pr.add_subparsers(dest="predict_command", metavar="ACTION", parser_class=type(pr))
    psub.required = True

    p = psub.add_parser("train", help="train, calibrate and measure a model; store it",
                        description="Samples: (user, item) pairs with a --given event; label: the pair "
                                    "also has the --target event. Train on the earlier samples, "
                                    "calibrate on a held-out slice of the training period, measure "
                                    "on the later ones. On a dataset that knows its true "
                                    "probabilities (the demo), oracle_roc_auc and oracle_ece "
                                    "measure them on the same test rows: the label's probability "
                                    "given the hidden truth at the sample's time and nothing later "
                                    "(the demo decides an application once, at the first view), "
                                    "the best any model could reach.")
    p.add_argument("--dataset", required=True, metavar="NAME")
    p.add_argument("--target", required=True, metavar="EVENT",
                   help="an event (apply, hire) or a rating condition, e.g. 'rating>=4'")
    p.add_argument("--given", default=None, metavar="EVENT",
                   help="the event a sample starts from (default: view; rating for a rating condition)")
    p.add_argument("--run", type=arg_int(bound="id"), default=None, metavar="RUN_ID",
                   help="use this recommender run's score of the pair as a feature")
    p.add_argument("--model", default="lightgbm", choices=["lightgbm", "logistic"])
    p.add_argument("--horizon", type=arg_float(bound="horizon"), default=None, metavar="DAYS",
                   help="count the target only within DAYS of the given event (default: any time); "
                        "test samples closer than that to the data's end are left out")
    p.add_argument("--seed", type=arg_int(bound="seed"), default=0)
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_train)

    p = psub.add_parser("rerank", help="re-order a run's lists by expected applications (or hires)",
                        description="Take the run's top-N candidates per user and order them by "
                                    "P(view) x P(apply | view) (x P(hire | apply) with --hire-model); "
                                    "stored as a new run (algorithm 'rerank').")
    p.add_argument("run_id", metavar="RUN_ID", type=arg_int(bound="id"))
    p.add_argument("--model", required=True, type=arg_int(bound="id"), metavar="MODEL_ID", help="the apply model")
    p.add_argument("--hire-model", type=arg_int(bound="id"), default=None, metavar="MODEL_ID")
    p.add_argument("--candidates", type=arg_int(bound="candidates", upper_only=True), default=100, metavar="N",
                   help="candidates per user taken from the run's list (default 100)")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_rerank)

    p = psub.add_parser("models", help="list stored prediction models")
    p.add_argument("--dataset", default=None, metavar="NAME")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_models)


def _fmt(v) -> str:
    return fmt(v, ".4f" if isinstance(v, float) else "")


def cmd_train(args) -> int:
    store = get_store(args)
    out = P.train(store, args.dataset, args.target, given=args.given, run_id=args.run,
                  kind=args.model, seed=args.seed, horizon_days=args.horizon)
    if out.get("note"):
        print(out["note"], file=sys.stderr)
    if args.json:
        print_json({k: out[k] for k in JSON_KEYS if k in out})
        return 0
    print(f"model {out['model_id']}: {out['kind']} P({out['target']} | {out['given']}) on "
          f"{out['n_train']:,} training and {out['n_test']:,} test samples (base rate {out['base_rate']:.4f})")
    for k in ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "oracle_roc_auc", "oracle_ece"):
        if k in out:
            print(f"  {k:<15}{_fmt(out[k])}")
    for name, auc in out["baselines"].items():
        print(f"  baseline {name:<6} roc_auc {_fmt(auc)}")
    return 0


def cmd_models(args) -> int:
    rows = P.models(get_store(args), args.dataset)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No prediction models yet; `recscope predict train --dataset NAME --target apply` makes one.")
        return 0
    print(f"{'id':>4}  {'dataset':<14}{'target':<12}{'given':<8}{'kind':<10}{'roc_auc':>8}{'ece':>8}")
    for r in rows:
        print(f"{r['model_id']:>4}  {r['dataset']:<14}{r['target']:<12}{r['given']:<8}{r['kind']:<10}"
              f"{_fmt(r.get('roc_auc')):>8}{_fmt(r.get('ece')):>8}")
    return 0


def cmd_rerank(args) -> int:
    out = P.rerank(get_store(args), args.run_id, args.model, hire_model_id=args.hire_model,
                   candidates=args.candidates)
    if args.json:
        print_json(out)
    else:
        print(f"re-ranked run {args.run_id} by model {args.model}: new run {out['run_id']}")
    return 0
