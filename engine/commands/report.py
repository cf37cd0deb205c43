"""`recscope report`: one self-contained HTML file of runs, a review model or a bandit
experiment (engine.report.service.build; the pages' Download buttons make the same file)."""

from __future__ import annotations

from pathlib import Path

from engine.cli import add_db_arg, get_store
from engine.errors import DataError
from engine.report.service import ReportSpec, build
from engine.validate import arg_int


def register(sub) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report",
                       description="Write one HTML file that opens offline: the runs of a "
                                   "dataset (--dataset with --runs), one review model "
                                   "(--review-model) or one bandit experiment (--experiment).")
    add_db_arg(p)
    p.add_argument("--dataset", metavar="NAME", help="dataset of the runs")
    p.add_argument("--runs", metavar="ID,ID,...", help="run ids, e.g. 1,3,5 (the first is the "
                   "baseline the others are compared with user by user)")
    p.add_argument("--metric", default="ndcg", help="per-user metric of the tests and "
                   "distributions (default ndcg)")
    p.add_argument("--k", type=arg_int(bound="k", upper_only=True), default=10,
                   help="cut-off (default 10)")
    p.add_argument("--relevance", default="any", metavar="TYPE",
                   help="what counts as a hit: any held-out event (default; the only type "
                        "this version evaluates)")
    p.add_argument("--review-model", type=arg_int(bound="id"), metavar="ID")
    p.add_argument("--experiment", type=arg_int(bound="id"), metavar="ID")
    p.add_argument("--out", required=True, metavar="FILE.html", help="where to write the report")
    p.set_defaults(func=cmd_report)


def spec_from_args(args) -> ReportSpec:
    chosen = [n for n, v in (("--runs", args.runs), ("--review-model", args.review_model),
                             ("--experiment", args.experiment)) if v is not None]
    if len(chosen) != 1:
        raise DataError("Name one thing to report on: --dataset NAME --runs 1,3,5, "
                        "--review-model ID or --experiment ID.")
    if args.runs is not None:
        if not args.dataset:
            raise DataError("--runs needs --dataset NAME.")
        try:
            ids = tuple(int(x) for x in args.runs.split(",") if x.strip())
        except ValueError:
            raise DataError(f"--runs takes run ids separated by commas, not {args.runs!r}.") from None
        return ReportSpec("runs", dataset=args.dataset, runs=ids, metric=args.metric, k=args.k,
                          relevance=args.relevance)
    if args.review_model is not None:
        return ReportSpec("review-model", review_model=args.review_model)
    return ReportSpec("experiment", experiment=args.experiment)


def cmd_report(args) -> int:
    spec = spec_from_args(args)
    out = Path(args.out)
    if not out.parent.exists():
        raise DataError(f"The folder of --out {str(out)!r} does not exist.")
    text = build(get_store(args), spec)
    out.write_bytes(text.encode("utf-8"))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0
