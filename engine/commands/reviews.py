"""Review commands: `recscope reviews train | models | score | label-issues | export-labels`."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.cli import add_db_arg, add_json_arg, get_store, print_json
from engine.errors import DataError
from engine.progress import TqdmProgress
from engine.reviews.labels import display_label, export_frame
from engine.reviews.model import ModelParams
from engine.services.reviews import label_issues, score_dataset, summary, train_dataset, weak_model_note
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

    p = rsub.add_parser("score", help="score a dataset's reviews that a model has not scored yet",
                        description="Score the reviews of --dataset that have no score from --model "
                                    "(default: the dataset's latest model). A model trained on "
                                    "another dataset works too. No retraining, no new model version.")
    p.add_argument("--dataset", required=True, metavar="NAME")
    p.add_argument("--model", type=arg_int(bound="id"), default=None, metavar="ID", help="review model id")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_score)

    p = rsub.add_parser("label-issues", help="labelled reviews whose label the model doubts",
                        description="Confident learning (cleanlab) on the latest model's out-of-fold "
                                    "scores: the labelled reviews most likely mislabelled, most "
                                    "doubtful first. Relabel them in the page (labels append).")
    p.add_argument("--dataset", required=True, metavar="NAME")
    p.add_argument("--top", type=arg_int(bound="top", upper_only=True), default=None, metavar="N", help="at most N reviews")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_label_issues)

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


def cmd_score(args) -> int:
    store = get_store(args)
    require_dataset(store, args.dataset)
    out = score_dataset(store, args.dataset, args.model)
    if args.json:
        print_json(out)
    else:
        print(f"model {out['model_id']} scored {out['n_scored']:,} review(s) of {args.dataset}: "
              f"{out['n_flagged']:,} flagged at threshold {out['threshold']:.3f}")
    return 0


def cmd_label_issues(args) -> int:
    if args.top is not None and args.top < 1:
        raise DataError(f"--top must be at least 1, not {args.top}.")
    store = get_store(args)
    require_dataset(store, args.dataset)
    df = label_issues(store, args.dataset, args.top)
    positive = positive_name(store, args.dataset)
    df["label"] = df["label"].map(lambda v: display_label(v, positive))
    if args.json:
        print_json([{"review_id": r.review_id, "label": r.label, "score": float(r.score),
                     "self_confidence": float(r.self_confidence)} for r in df.itertuples(index=False)])
    elif df.empty:
        print(f"no likely label errors found in {args.dataset}")
    else:
        print(df.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
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
