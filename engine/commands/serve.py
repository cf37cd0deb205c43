"""`recscope serve`: start the viewer (Streamlit) from a clone or an installed package.

The app's settings (loopback address, theme, no usage statistics, minimal toolbar,
headless) come from ``viewer/streamlit_config.toml`` inside the package and are passed
as command-line flags, which outrank any ``.streamlit/config.toml`` of the working
folder; the app script is the installed ``viewer/app.py``. Both are located with
``importlib.util.find_spec`` so that nothing of the viewer (or Streamlit) is imported
here. The process replaces itself with Streamlit (``os.execve``), so stopping the pid
that was started stops the server.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import tomllib
from importlib.util import find_spec
from pathlib import Path

from engine.cli import add_db_arg
from engine.errors import DataError

DEFAULT_PORT = 8501
DEFAULT_HOST = "127.0.0.1"


def register(sub) -> None:
    p = sub.add_parser("serve", help="start the viewer (the Streamlit app) on this machine",
                       description="Start the viewer. It listens on 127.0.0.1 unless --host "
                                   "says otherwise; an empty store gets the demo first. The "
                                   "first line printed says which store is used.")
    add_db_arg(p)
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N",
                   help=f"TCP port (default {DEFAULT_PORT})")
    p.add_argument("--host", default=DEFAULT_HOST, metavar="ADDRESS",
                   help=f"address to listen on (default {DEFAULT_HOST}); the app has no "
                        "authentication, so anything else exposes it to the network")
    p.set_defaults(func=cmd_serve)


def viewer_dir() -> Path:
    """The folder of the ``viewer`` package in use (installed or the clone's)."""
    spec = find_spec("viewer")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("The viewer package is not installed; reinstall recscope.")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def settings_flags(config: Path) -> list[str]:
    """Every setting of a Streamlit config file as ``--section.key=value`` flags."""
    with open(config, "rb") as f:
        data = tomllib.load(f)
    flags = []
    for section, values in data.items():
        for key, value in values.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            flags.append(f"--{section}.{key}={text}")
    return flags


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def streamlit_argv(host: str, port: int) -> list[str]:
    vdir = viewer_dir()
    own = {"--server.address": host, "--server.port": port,
           "--browser.serverAddress": host, "--browser.serverPort": port}
    packaged = [f for f in settings_flags(vdir / "streamlit_config.toml")
                if f.split("=", 1)[0] not in own]
    return [sys.executable, "-m", "streamlit", "run", str(vdir / "app.py"), *packaged,
            *(f"{k}={v}" for k, v in own.items())]


def _exec(argv: list[str], env: dict[str, str]) -> int:  # tests replace this
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, env)
    return 0  # not reached


def cmd_serve(args) -> int:
    from engine.store import Store, default_db_location
    from engine.store.datasets import list_datasets

    if not 0 < args.port < 65536:
        raise DataError(f"--port must be between 1 and 65535, not {args.port}.")
    host = args.host.strip()
    if not host:
        raise DataError("--host must be an address, e.g. 127.0.0.1.")
    if args.db is not None:
        path, origin = Path(args.db), "--db"
    else:
        path, origin = default_db_location()
    path = path.expanduser().resolve()
    print(f"recscope: store {path} (from {origin})", flush=True)
    if not is_loopback(host):
        print(f"warning: listening on {host}: the app has no authentication, so anyone who "
              "can reach this address can read the store, write labels and start training.",
              file=sys.stderr, flush=True)
    store = Store(path)
    if not store.exists or list_datasets(store).empty:
        from engine.demo import build_demo

        print("The store is empty: building the demo first (about a minute).", flush=True)
        build_demo(store, seed=0)
    argv = streamlit_argv(host, args.port)
    env = dict(os.environ, RECSCOPE_DB=str(path))
    return _exec(argv, env)
