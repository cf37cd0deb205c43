"""Data commands: `recscope demo`, `recscope import movielens|csv|reviews`, `recscope datasets`.

Imports read and check the whole input first (loaders raise DataError with one
sentence), then write it in one transaction, so bad input leaves the store unchanged.
"""

from __future__ import annotations

import argparse
import sys

from engine import demo
from engine.cli import add_db_arg, add_json_arg, get_store, print_json
from engine.data.loaders import (
    dropped_note,
    load_interactions_csv,
    load_movielens,
    load_reviews,
    parse_sep,
    varying_note,
)
from engine.errors import DataError
from engine.progress import TqdmProgress
from engine.store.datasets import (
    list_datasets,
    positive_name,
    save_dataset,
    save_reviews,
)
from engine.validate import arg_int, arg_name


def _progress():
    # Bars in a terminal only: logs and captured output stay one clean line per result.
    return TqdmProgress(disable=not sys.stderr.isatty())


def register(sub) -> None:
    p = sub.add_parser("demo", help="build the built-in demo (synthetic job board) in the store",
                       description="Build (or rebuild) the built-in demo dataset and everything "
                                   "derived from it.")
    add_db_arg(p)
    p.add_argument("--seed", type=arg_int(bound="seed"), default=0, help="random seed (default 0)")
    p.add_argument("--replace", action="store_true",
                   help="rebuild the demo dataset even when it has runs or review models, "
                        "dropping them (other datasets are never touched)")
    p.set_defaults(func=cmd_demo)

    imp = sub.add_parser("import", help="import a dataset (movielens, csv, reviews) or the top-K lists of an outside system (run)",
                         description="Import a dataset into the store.")
    isub = imp.add_subparsers(dest="source", metavar="SOURCE", parser_class=type(imp))
    isub.required = True
    imp._recscope_sub = isub  # other command modules add sources (e.g. `import run`)

    p = isub.add_parser("movielens", help="a MovieLens folder (ml-100k, ml-latest-small, ml-1m)",
                        description="Import a MovieLens folder; the format (ml-100k u.data, "
                                    "ml-latest ratings.csv, ml-1m ratings.dat) is detected.")
    p.add_argument("path", metavar="PATH", help="the MovieLens folder")
    _common(p)
    p.set_defaults(func=cmd_import_movielens)

    p = isub.add_parser("csv", help="interactions from any CSV or Parquet file",
                        description="Import interactions from a CSV or Parquet (.parquet, .pq) "
                                    "file, plain or compressed (.csv.gz, .csv.zip), with a column "
                                    "mapping. Timestamps: unix seconds/ms/us, ISO 8601 (Z, +09:00), "
                                    "a trailing zone name (UTC, JST), '2024/05/01 12:30', "
                                    "'5/1/2024 12:30 PM'; all converted to UTC. Duplicate events (same user, item, "
                                    "event, timestamp) are collapsed into one. For a file without a "
                                    "header give every column as a 0-based number.")
    p.add_argument("file", metavar="FILE")
    _common(p)
    p.add_argument("--user-col", required=True, metavar="C", help="user id column")
    p.add_argument("--item-col", required=True, metavar="C", help="item id column")
    p.add_argument("--time-col", metavar="C", help="timestamp column")
    p.add_argument("--event-col", metavar="C", help="event type column (view, apply, ...)")
    p.add_argument("--weight-col", metavar="C", help="numeric weight column (e.g. a rating)")
    p.add_argument("--items", metavar="FILE", help="items file (CSV/Parquet) with titles")
    p.add_argument("--item-id-col", metavar="C", help="item id column of --items (default: --item-col)")
    p.add_argument("--title-col", metavar="C", help="title column of --items (or of FILE)")
    p.add_argument("--item-cols", metavar="A,B,...",
                   help="item metadata columns of --items (or of FILE), e.g. 'Title,Company,City': "
                        "each item gets the most frequent non-empty value; without it only the "
                        "title and the columns constant within each item are kept")
    p.add_argument("--user-cols", metavar="A,B,...",
                   help="user metadata columns of FILE (most frequent non-empty value per user)")
    p.add_argument("--time-format", metavar="FMT",
                   help="strftime format of --time-col, e.g. '%%d/%%m/%%Y %%H:%%M' (for columns "
                        "that mix layouts or where day and month could be swapped)")
    _sep_arg(p)
    p.set_defaults(func=cmd_import_csv)

    p = isub.add_parser("reviews", help="reviews from a CSV/TSV file or a folder of them",
                        description="Import a reviews-only dataset from a CSV/TSV file, or from "
                                    "every .csv/.tsv file of a folder (ids prefixed with the file "
                                    "stem). For a file without a header give every column as a "
                                    "0-based number, e.g. --sep '\\t' --text-col 1 --label-col 0.")
    p.add_argument("file", metavar="FILE", help="a CSV/TSV file or a folder of them")
    _common(p)
    p.add_argument("--text-col", required=True, metavar="C", help="review text column (name or 0-based number)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--label-col", metavar="C",
                   help="label column: 1/0, true/false, spam/ham, yes/no (any case); empty = unknown")
    g.add_argument("--label-from-votes", metavar="'A+B>C'",
                   help="label 1 when the votes summed over columns A and B outnumber those in C, "
                        "e.g. 'Toxic+Very Toxic>Not Toxic'")
    p.add_argument("--id-col", metavar="C", help="review id column (default: the row number)")
    p.add_argument("--time-col", metavar="C", help="review date column (fills created_at)")
    p.add_argument("--time-format", metavar="FMT",
                   help="strftime format of --time-col, e.g. '%%d/%%m/%%Y' (for mixed or "
                        "day/month-ambiguous dates)")
    p.add_argument("--positive-name", metavar="NAME",
                   help="what label 1 means, shown on the Flagged reviews page, its buttons and "
                        "the CLI, e.g. 'deceptive' or 'spam' (default 'meaningless')")
    p.add_argument("--append", action="store_true",
                   help="add the file's reviews to the existing dataset NAME as one batch (needs "
                        "--id-col); its latest model scores them at once, without retraining")
    p.add_argument("--on-duplicate", choices=["skip", "error"], default="skip",
                   help="with --append, ids already in the dataset: skip them and say how many "
                        "(default), or refuse the whole file")
    _sep_arg(p)
    p.set_defaults(func=cmd_import_reviews)

    p = sub.add_parser("datasets", help="list the datasets in the store",
                       description="List the datasets in the store with their counts.")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=cmd_datasets)


def _common(p: argparse.ArgumentParser) -> None:
    add_db_arg(p)
    p.add_argument("--name", required=True, type=arg_name("--name"), help="dataset name in the store")
    p.add_argument("--replace", action="store_true",
                   help="replace a dataset of that name (and its runs)")


def _sep_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sep", metavar="S", help="separator, one character; '\\t' or 'tab' for a tab "
                                              "(default ',', a tab for .tsv)")


# --------------------------------------------------------------------------- commands


def _save(args, ds) -> None:
    progress = _progress()
    progress("store dataset", 0, 1)
    save_dataset(get_store(args), ds, replace=args.replace)
    progress("store dataset", 1, 1)
    progress.close()


def _summary(ds) -> str:
    dup = ds.info.get("duplicates_collapsed", 0)
    extra = f"; {dup:,} duplicate event(s) collapsed" if dup else "; no duplicate events"
    dropped = ds.info.get("items_without_interactions", 0)
    if dropped:
        extra += f"; {dropped:,} catalogue item(s) without interactions left out"
    missing = ds.info.get("missing_timestamps", 0)
    if missing:
        extra += f"; {missing:,} event(s) without a timestamp"
    return (f"imported {ds.name!r}: {ds.n_users:,} users, {ds.n_items:,} items, "
            f"{ds.n_interactions:,} interactions{extra}.")


def cmd_import_movielens(args) -> int:
    progress = _progress()
    ds = load_movielens(args.path, args.name, progress=progress)
    progress.close()
    _save(args, ds)
    print(_summary(ds))
    return 0


def cmd_import_csv(args) -> int:
    progress = _progress()
    ds = load_interactions_csv(args.file, args.name, args.user_col, args.item_col,
                               time_col=args.time_col, event_col=args.event_col,
                               weight_col=args.weight_col, items_path=args.items,
                               item_id_col=args.item_id_col, title_col=args.title_col,
                               sep=parse_sep(args.sep), item_cols=args.item_cols,
                               user_cols=args.user_cols, time_format=args.time_format,
                               progress=progress)
    progress.close()
    for note in (dropped_note(ds.info), varying_note(ds.info), varying_note(ds.info, "user")):
        if note:
            print(note, file=sys.stderr)
    _save(args, ds)
    print(_summary(ds))
    return 0


def cmd_import_reviews(args) -> int:
    if not args.name.strip():
        raise DataError("A dataset needs a non-empty --name.")
    positive = None if args.positive_name is None else args.positive_name.strip()
    if positive is not None and (not positive or positive.lower() in ("fine", "skip", "undo")):
        raise DataError(f"--positive-name {args.positive_name!r} cannot name the positive class; "
                        f"give a word other than fine, skip or undo, e.g. 'deceptive'.")
    if args.append:
        return _append_reviews(args)
    progress = _progress()
    ds = load_reviews(args.file, args.name, args.text_col, label_col=args.label_col,
                      sep=parse_sep(args.sep), id_col=args.id_col,
                      label_from_votes=args.label_from_votes, time_col=args.time_col,
                      time_format=args.time_format, progress=progress)
    progress("store reviews", 0, 1)
    save_reviews(get_store(args), args.name, ds.reviews, source=ds.source, replace=args.replace,
                 info=ds.info, positive_name=positive)
    progress("store reviews", 1, 1)
    progress.close()
    labels = ds.reviews["label"]
    n_known = int(labels.notna().sum())
    n_pos = int(labels.sum(skipna=True)) if n_known else 0
    label_part = (f"{n_pos:,} labelled 1 ({positive or 'spam/toxic'}) of {n_known:,} labelled"
                  if n_known else "no labels")
    renamed = ds.info.get("duplicate_ids_renamed", 0)
    extra = f"; {renamed:,} repeated id(s) given a #n suffix" if renamed else ""
    files = ds.info.get("n_files", 1)
    from_files = f" from {files} files" if files > 1 else ""
    print(f"imported {args.name!r}: {ds.n_reviews:,} reviews{from_files}, {label_part}{extra}.")
    return 0


def _append_reviews(args) -> int:
    """`import reviews --append`: a new batch of an existing dataset (engine.services.reviews)."""
    from engine.services.reviews import append_reviews
    from engine.store.datasets import require_dataset

    if args.replace:
        raise DataError("--append adds to a dataset and --replace replaces it; give one of them.")
    if args.id_col is None:
        raise DataError("--append needs --id-col: without it reviews are numbered by row, and the "
                        "numbers of a new file would collide with the reviews already there.")
    store = get_store(args)
    require_dataset(store, args.name)
    progress = _progress()
    ds = load_reviews(args.file, args.name, args.text_col, label_col=args.label_col,
                      sep=parse_sep(args.sep), id_col=args.id_col,
                      label_from_votes=args.label_from_votes, time_col=args.time_col,
                      time_format=args.time_format, progress=progress)
    progress("append reviews", 0, 1)
    out = append_reviews(store, args.name, ds.reviews, source=ds.source, on_duplicate=args.on_duplicate)
    progress("append reviews", 1, 1)
    progress.close()
    if out["n_skipped"]:
        shown = ", ".join(repr(i) for i in out["skipped"][:5])
        more = f" and {out['n_skipped'] - 5:,} more" if out["n_skipped"] > 5 else ""
        print(f"skipped {out['n_skipped']:,} review(s) already in {args.name!r}: {shown}{more}",
              file=sys.stderr)
    if not out["n_added"]:
        print(f"appended nothing to {args.name!r}: every review of the file is already there.")
        return 0
    scored = (f"; model {out['model_id']} scored them: {out['n_flagged']:,} flagged"
              if out["model_id"] is not None else "; no model scored them (none trained yet)")
    print(f"appended {out['n_added']:,} reviews to {args.name!r} as batch {out['batch_id']}{scored}.")
    return 0


def cmd_datasets(args) -> int:
    store = get_store(args)
    df = list_datasets(store)
    count_cols = ["n_users", "n_items", "n_interactions", "n_reviews"]
    rows = [{"name": r["name"], "source": r["source"] or "",
             **{c: int(r[c]) if r[c] == r[c] and r[c] is not None else 0 for c in count_cols}}
            for r in df.to_dict(orient="records")]
    if args.json:
        # what label 1 of a reviews dataset means (None for datasets without reviews)
        for r in rows:
            r["positive_name"] = positive_name(store, r["name"]) if r["n_reviews"] else None
        print_json(rows)
        return 0
    if not rows:
        print("The store has no datasets yet; run `recscope demo` or `recscope import ...`.")
        return 0
    headers = ["name", "users", "items", "interactions", "reviews", "source"]
    table = [[r["name"], *(f"{r[c]:,}" for c in count_cols), r["source"]] for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(headers)]
    right = {1, 2, 3, 4}

    def fmt(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    print(fmt(headers))
    for t in table:
        print(fmt(t))
    return 0


def cmd_demo(args) -> int:
    store = get_store(args)
    note = demo.replace_note(store, demo.DEMO_NAME, replace=args.replace)  # refuses without --replace
    if note:
        print(note, file=sys.stderr)
    progress = _progress()
    name = demo.build_demo(store, seed=args.seed, progress=progress)
    progress.close()
    row = list_datasets(store).set_index("name").loc[name]
    print(f"demo dataset {name!r} in {store.path}: {int(row['n_users']):,} users, "
          f"{int(row['n_items']):,} items, {int(row['n_interactions']):,} interactions, "
          f"{int(row['n_reviews']):,} reviews.")
    print("Open the viewer with `make run` (or `streamlit run viewer/app.py`).")
    return 0
