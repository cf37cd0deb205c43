"""Review commands: `recscope reviews train | models | export-labels`."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.cli import add_db_arg, add_json_arg, get_store, print_json
from engine.errors import DataError
from engine.progress import TqdmProgress
from engine.reviews.labels import export_frame
from engine.reviews.model import ModelParams
from engine.services.reviews import summary, train_dataset, weak_model_note
from engine.store.datasets import positive_name, require_dataset
from engine.store.reviews import label_history, list_models, load_reviews
from engine.validate import arg_float, arg_int


def _progress():
    return TqdmProgress(disable=not sys.stderr.isatty())


def register(sub) -> None:
    rv = sub.add_parser("reviews", help="train the review classifier, list models, export labels",
                        description="The review-quality classifier: character n-gram TF-IDF and rule "
                                    "signals, calibrated logistic regression.")
    rsub = rv.add_subparsers(dest="reviews_command", metavar="ACTION", parser_class=type(rv))
    rsub.required = True

    p = rsub.add_parser("train", help="train, cross-validate and score all reviews of a dataset",
                        description="Train on the dataset's labelled reviews (human labels override "
                                    "the shipped ones), cross-validate, and score every review; "
                                    "stores a new model version.")
    p.add_argument("--dataset", required=True, metavar="NAME")
    p.add_argument("--folds", type=arg_int(bound="folds", upper_only=True), default=5, help="cross-validation folds (default 5)")
    p.add_argument("--seed", type=arg_int(bound="seed"), default=0, help="random seed (default 0)")
    p.add_argument("--C", type=arg_float(bound="C", upper_only=True), default=None, dest="C", help="inverse regularisation (default 10)")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_train)

    p = rsub.add_parser("models", help="list a dataset's review model versions")
    p.add_argument("--dataset", required=True, metavar="NAME")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_models)

    p = rsub.add_parser("export-labels", help="write the human labels as CSV",
                        description="Write each review's standing human label (or, with --history, "
                                    "every label event) as CSV.")
    p.add_argument("--dataset", required=True, metavar="NAME")
    p.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    p.add_argument("--history", action="store_true", help="every event, undos included")
    add_db_arg(p)
    p.set_defaults(func=cmd_export)


def cmd_train(args) -> int:
    if args.folds < 2:
        raise DataError(f"--folds must be at least 2, not {args.folds}.")
    params = ModelParams(cv_folds=args.folds, seed=args.seed)
    if args.C is not None:
        if args.C <= 0:
            raise DataError(f"--C must be positive, not {args.C}.")
        params.C = args.C
    bar = _progress()
    try:
        row = train_dataset(get_store(args), args.dataset, params, progress=bar)
    finally:
        bar.close()
    out = summary(row)
    if args.json:
        print_json(out)
    else:
        positive = positive_name(get_store(args), args.dataset)
        print(f"model {out['model_id']} on {args.dataset}: {row['n_train']} training reviews "
              f"({row['n_positive']} {positive}, {row['n_human_labels']} human labels), "
              f"{row['cv_folds']}-fold ROC-AUC {out['roc_auc']:.4f}, PR-AUC {out['pr_auc']:.4f}, "
              f"F1 {out['f1']:.3f} at threshold {out['threshold']:.3f}; "
              f"{out['n_flagged']} of {row['n_scored']} reviews flagged")
    note = weak_model_note(row)
    if note:
        print(f"warning: {note}", file=sys.stderr)
    return 0


def cmd_models(args) -> int:
    store = get_store(args)
    require_dataset(store, args.dataset)
    df = list_models(store, args.dataset)
    cols = ["model_id", "created_at", "n_train", "n_human_labels", "roc_auc", "pr_auc", "f1",
            "threshold", "n_flagged"]
    if args.json:
        print_json(df[cols].to_dict(orient="records"))
    elif df.empty:
        print(f"no review models for {args.dataset} yet; run `recscope reviews train --dataset {args.dataset}`")
    else:
        print(df[cols].to_string(index=False))
    return 0


def cmd_export(args) -> int:
    store = get_store(args)
    if args.out and not Path(args.out).parent.is_dir():
        raise DataError(f"Cannot write --out {args.out}: the folder {Path(args.out).parent} "
                        f"does not exist.")
    reviews = load_reviews(store, args.dataset)
    df = export_frame(label_history(store, args.dataset), reviews, full_history=args.history,
                      positive_name=positive_name(store, args.dataset))
    if args.out:
        try:
            df.to_csv(args.out, index=False)
        except OSError as exc:  # a folder, no permission...
            raise DataError(f"Cannot write --out {args.out}: {exc.strerror or exc}.") from None
        print(f"wrote {len(df)} rows to {args.out}", file=sys.stderr)
    else:
        df.to_csv(sys.stdout, index=False)
    return 0
