"""The `recscope` command.

Each feature registers its sub-commands from a module in ``engine/commands/``: the
module has ``register(subparsers)`` which adds parsers whose ``func(args) -> int`` does
the work. Errors meant for a person (``RecscopeError``) print one sentence and exit 2; any
other exception is a bug: one sentence naming a log file that holds the traceback
(``$RECSCOPE_LOG_DIR``, default ``<tmp>/recscope-logs``), exit 1. Numbers and names are
checked at the edge by ``engine.validate`` (argparse ``type=`` functions).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import sys
import tempfile
import traceback

import numpy as np
import pandas as pd

from engine import __version__
from engine.errors import RecscopeError
from engine.liveness import sweep
from engine.paths import git_hash, user_data_dir
from engine.store import Store
from engine.store.dbfile import check_db_path
from engine.textsafe import printable

#: Modules under engine/commands that register sub-commands, in help order.
COMMAND_MODULES = ["data", "recs", "tune", "reviews", "bandits", "predict", "report", "experiment", "serve"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one sentence, exit 2, like our other errors
        # No usage dump (a dozen lines for `train`): the sentence points at --help instead.
        message = message.rstrip(".")
        if message.endswith("expected one argument"):
            # argparse reads a value such as -0.1,0.2 as an option of its own
            opt = message.split(":")[0].removeprefix("argument ").split("/")[-1]
            message += f"; a value starting with '-' goes after '=', e.g. {opt}=-0.1"
        self.exit(2, f"error: {printable(message)} (see `{printable(self.prog)} --help`).\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="recscope", description="Train, store and compare recommenders, "
                     "review classifiers and bandits.", epilog=_store_help(),
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"engine.commands.{name}").register(sub)
    return parser


class _VersionAction(argparse.Action):
    """--version, computed only when asked (it may run git)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs):
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, nargs=0,
                         help="print the version (in a clone, also the git commit) and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(_version())  # stdout, like argparse's own version action
        parser.exit(0)


def _version() -> str:
    commit = git_hash()  # a clone only; an installed package has no git
    return f"recscope {__version__}" + (f" (git {commit})" if commit else "")


def _store_help() -> str:
    # Pre-wrapped (RawDescriptionHelpFormatter) so the path is never split at a hyphen.
    return ("The store (a DuckDB file) is --db PATH, else $RECSCOPE_DB, else\n"
            "data/recscope.duckdb in a clone, else recscope.duckdb in the per-user data\n"
            "folder ($XDG_DATA_HOME/recscope, else ~/.local/share/recscope), here:\n"
            f"  {user_data_dir()}")


def add_db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="PATH", default=None,
                   help="DuckDB file (default: $RECSCOPE_DB, else data/recscope.duckdb in a "
                        "clone, else the per-user data folder; see `recscope --help`)")


def add_json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if np.isnan(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (pd.Timestamp,)):
        return o.isoformat()
    return str(o)


def get_store(args):
    """The store of ``--db`` (checked: a DuckDB file or a new path), after marking runs
    whose process was killed as interrupted (engine.liveness.sweep)."""
    store = Store(getattr(args, "db", None))
    check_db_path(store.path)
    if store.path.exists():
        sweep(store)
    return store


def _log_internal_error(argv) -> str | None:
    """Write the current exception's traceback to a log file; its path (or None)."""
    folder = os.environ.get("RECSCOPE_LOG_DIR") or os.path.join(tempfile.gettempdir(),
                                                                 "recscope-logs")
    try:
        os.makedirs(folder, exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        fd, path = tempfile.mkstemp(prefix=f"recscope-{stamp}-", suffix=".log", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"recscope {_version()} {sys.argv[0]} {argv!r}\n")
            traceback.print_exc(file=fh)
        return path
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except RecscopeError as exc:
        # names and values quoted in the sentence come from people: one line, no escapes
        print(f"error: {printable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the store keeps only what was committed.", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: out of memory; the store keeps only what was committed (try smaller "
              "--k, fewer items or fewer parameters).", file=sys.stderr)
        return 1
    except Exception as exc:  # anything else is a bug of ours: one sentence and a log file
        log = _log_internal_error(argv)
        where = f"the traceback is in {log}" if log else "no log file could be written"
        print(f"error: an internal error stopped recscope ({type(exc).__name__}); the store "
              f"keeps only what was committed; {where}.", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into a reader that stopped early (`| head`)
        try:  # point stdout at /dev/null so the flush at exit does not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
