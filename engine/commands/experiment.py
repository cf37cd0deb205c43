"""`recscope experiment run FILE.toml`: a declarative experiment that reruns (see
engine.services.experiment for the file's layout and what is reused)."""

from __future__ import annotations

import sys

from engine.cli import add_db_arg, add_json_arg, get_store, print_json
from engine.progress import TqdmProgress
from engine.services import experiment as E


def register(sub) -> None:
    grp = sub.add_parser("experiment", help="run an experiment file (TOML)",
                         description="Experiment files: data, split, algorithms (with small "
                                     "grids) and reports, rerunnable by a scheduler.")
    esub = grp.add_subparsers(dest="action", metavar="ACTION", parser_class=type(grp))
    esub.required = True
    p = esub.add_parser("run", help="run an experiment file, reusing what the store holds",
                        description="Import or reuse the data, split it, train each algorithm "
                                    "(or reuse a run with the same dataset, split, parameters and "
                                    "code version), then write the reports. Exit 2 on bad input "
                                    "(nothing written), 1 when a run failed.")
    p.add_argument("file", metavar="FILE.toml")
    add_db_arg(p)
    p.add_argument("--force", action="store_true", help="train every run anew (the data is "
                   "still reused when its content is the same)")
    p.add_argument("--only", metavar="ALGO", help="run only this algorithm of the file (one "
                   "step per algorithm in a workflow); reports are left to a run without --only")
    add_json_arg(p)
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    exp = E.load(args.file)                     # every check before the store is opened
    progress = TqdmProgress(disable=not sys.stderr.isatty())
    try:
        res = E.run(get_store(args), exp, force=args.force, only=args.only, progress=progress)
    finally:
        progress.close()
    if args.json:
        print_json(res)
    else:
        print(f"dataset {res['dataset']!r}: {'reused' if res['dataset_reused'] else 'imported'}; "
              f"split {res['split_id']}")
        for r in res["runs"]:
            what = "reused" if r["reused"] else ("trained" if r["status"] == "done" else "FAILED")
            params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
            print(f"run {r['run_id']}: {r['algorithm']}" + (f" ({params})" if params else "")
                  + f" - {what}")
        for path in res["reports"]:
            print(f"report: {path}")
        for note in res["skipped"]:
            print(f"skipped: {note}")
    for r in res["runs"]:
        if r["status"] != "done":
            print(f"error: run {r['run_id']} ({r['algorithm']}) failed: {r['error']}",
                  file=sys.stderr)
    return 1 if res["failed"] else 0
