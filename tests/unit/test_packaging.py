"""`recscope --version`, where the store lives (--db, $RECSCOPE_DB, the clone, the
per-user folder), and what `recscope serve` hands to Streamlit. The server itself and
the installed wheel are tested in tests/browser/test_installed_package.py."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

import engine
import engine.paths
from engine.cli import main
from engine.commands import serve
from tests.conftest import ROOT


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse: --version, --help, usage errors
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("RECSCOPE_DB", raising=False)


@pytest.fixture
def installed(monkeypatch, tmp_path):
    """Behave as an installed package: no clone, a per-user data folder under tmp_path."""
    monkeypatch.setattr(engine.paths, "source_root", lambda: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("RECSCOPE_DB", raising=False)
    return tmp_path / "xdg" / "recscope" / "recscope.duckdb"


@pytest.fixture
def exec_calls(monkeypatch):
    """Replace the exec of Streamlit by a recorder."""
    calls = []
    monkeypatch.setattr(serve, "_exec", lambda argv, env: calls.append((argv, env)) or 0)
    return calls


def _import_small(capsys, *db_args) -> None:
    """Make a store non-empty (so `serve` does not build the demo) with a 2-row dataset."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        csv = Path(d) / "small.csv"
        csv.write_text("u,i\na,x\nb,y\n", encoding="utf-8")
        _run_import(capsys, csv, *db_args)


def _run_import(capsys, csv, *db_args) -> None:
    rc, _, err = run(capsys, "import", "csv", csv, "--name", "small", "--user-col", "u",
                     "--item-col", "i", *db_args)
    assert rc == 0, err


# --------------------------------------------------------------------------- --version


def test_version_is_the_package_version_plus_the_clone_commit(capsys):
    rc, out, _ = run(capsys, "--version")
    assert rc == 0
    with open(ROOT / "pyproject.toml", "rb") as f:
        version = tomllib.load(f)["project"]["version"]
    assert engine.__version__ == version
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        assert out.strip() == f"recscope {version}"
        return
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert out.strip() == f"recscope {version} (git {commit})"


def test_version_outside_a_clone_has_no_commit(capsys, installed):
    engine.paths.git_hash.cache_clear()
    try:
        rc, out, _ = run(capsys, "--version")
    finally:
        engine.paths.git_hash.cache_clear()
    assert (rc, out.strip()) == (0, f"recscope {engine.__version__}")


# --------------------------------------------------------------------------- store location


def test_store_order_env_then_clone(monkeypatch, tmp_path, no_env):
    from engine.store import Store, default_db_location

    assert default_db_location() == (ROOT / "data" / "recscope.duckdb",
                                     "the clone's data folder")
    monkeypatch.setenv("RECSCOPE_DB", str(tmp_path / "env.duckdb"))
    assert default_db_location() == (tmp_path / "env.duckdb", "$RECSCOPE_DB")
    assert Store().path == tmp_path / "env.duckdb"
    assert Store(tmp_path / "flag.duckdb").path == tmp_path / "flag.duckdb"


def test_store_outside_a_clone_is_the_per_user_folder(monkeypatch, tmp_path, installed):
    from engine.store import default_db_location

    assert default_db_location() == (installed, "the per-user data folder")
    # no $XDG_DATA_HOME (or a relative one, which the XDG rule ignores): ~/.local/share
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for xdg in ("", "relative/dir"):
        monkeypatch.setenv("XDG_DATA_HOME", xdg)
        assert default_db_location()[0] == (tmp_path / "home" / ".local" / "share" / "recscope"
                                            / "recscope.duckdb")


def test_db_flag_beats_env(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RECSCOPE_DB", str(tmp_path / "env.duckdb"))
    _import_small(capsys, "--db", tmp_path / "flag.duckdb")
    assert (tmp_path / "flag.duckdb").exists() and not (tmp_path / "env.duckdb").exists()


def test_commands_without_db_write_to_the_per_user_folder(capsys, installed):
    _import_small(capsys)
    assert installed.exists()
    rc, out, _ = run(capsys, "datasets", "--json")
    assert rc == 0 and '"small"' in out


def test_help_names_the_store_order_and_the_per_user_folder(capsys, installed):
    rc, out, _ = run(capsys, "--help")
    text = " ".join(out.split())
    assert rc == 0
    assert "--db PATH, else $RECSCOPE_DB, else data/recscope.duckdb in a clone" in text
    assert str(installed.parent) in text


# --------------------------------------------------------------------------- serve


def test_serve_passes_the_packaged_settings_and_loopback(tmp_path, capsys, exec_calls):
    db = tmp_path / "s.duckdb"
    _import_small(capsys, "--db", db)
    rc, out, err = run(capsys, "serve", "--db", db, "--port", "8642")
    assert rc == 0 and err == ""
    assert out.splitlines()[0] == f"recscope: store {db.resolve()} (from --db)"
    (argv, env), = exec_calls
    assert argv[1:4] == ["-m", "streamlit", "run"]
    assert argv[4] == str(ROOT / "viewer" / "app.py")
    assert env["RECSCOPE_DB"] == str(db.resolve())
    flags = dict(a.split("=", 1) for a in argv[5:])
    assert flags["--server.address"] == "127.0.0.1" and flags["--server.port"] == "8642"
    with open(ROOT / "viewer" / "streamlit_config.toml", "rb") as f:
        packaged = tomllib.load(f)
    assert packaged["server"]["address"] == "127.0.0.1"
    for section, values in packaged.items():
        for key, value in values.items():
            want = str(value).lower() if isinstance(value, bool) else str(value)
            if key not in ("address", "serverAddress"):
                assert flags[f"--{section}.{key}"] == want
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--client.toolbarMode"] == "minimal"
    assert flags["--server.headless"] == "true"
    # page speed (issue 16): no source watcher walking every module and no full GC after
    # every run, each of which held up the end of a run by ~100 ms
    assert flags["--server.fileWatcherType"] == "none"
    assert flags["--runner.postScriptGC"] == "false"
    assert len(argv[5:]) == len(flags)  # no setting given twice


def test_serve_first_line_names_env_and_per_user_store(monkeypatch, tmp_path, capsys,
                                                        exec_calls, installed):
    _import_small(capsys)  # into the per-user folder
    rc, out, _ = run(capsys, "serve")
    assert rc == 0
    assert out.splitlines()[0] == (f"recscope: store {installed.resolve()} "
                                   f"(from the per-user data folder)")
    assert exec_calls[-1][1]["RECSCOPE_DB"] == str(installed.resolve())
    monkeypatch.setenv("RECSCOPE_DB", str(installed))
    rc, out, _ = run(capsys, "serve")
    assert out.splitlines()[0] == f"recscope: store {installed.resolve()} (from $RECSCOPE_DB)"


@pytest.mark.parametrize("host,warns", [("127.0.0.1", False), ("localhost", False),
                                        ("::1", False), ("127.0.0.2", False),
                                        ("0.0.0.0", True), ("192.168.1.5", True),
                                        ("::", True), ("example.org", True)])
def test_serve_warns_once_off_loopback(tmp_path, capsys, exec_calls, host, warns):
    db = tmp_path / "s.duckdb"
    _import_small(capsys, "--db", db)
    rc, _, err = run(capsys, "serve", "--db", db, "--host", host)
    assert rc == 0
    if warns:
        assert len(err.splitlines()) == 1 and "no authentication" in err
    else:
        assert err == ""
    flags = dict(a.split("=", 1) for a in exec_calls[-1][0][5:])
    assert flags["--server.address"] == host


@pytest.mark.parametrize("argv", [["--port", "0"], ["--port", "70000"], ["--host", " "]])
def test_serve_bad_port_or_host_is_one_sentence(tmp_path, capsys, exec_calls, argv):
    rc, out, err = run(capsys, "serve", "--db", tmp_path / "s.duckdb", *argv)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and not exec_calls


def test_clone_settings_match_the_packaged_settings():
    """.streamlit/config.toml (for a bare `streamlit run` in a clone) holds the same values."""
    with open(ROOT / "viewer" / "streamlit_config.toml", "rb") as f:
        packaged = tomllib.load(f)
    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        clone = tomllib.load(f)
    assert packaged == clone


def test_pages_are_found_beside_viewer_in_a_clone():
    from viewer import nav

    assert nav.PAGES_DIR == ROOT / "pages"
    assert {f for _k, f, *_ in nav.PAGE_SPECS} <= {p.name for p in nav.PAGES_DIR.glob("*.py")}


def test_serve_builds_the_demo_only_into_an_empty_store(monkeypatch, tmp_path, capsys,
                                                        exec_calls):
    import engine.demo

    built = []

    def fake_build_demo(store, seed=0, **kw):  # the real one takes half a minute
        built.append(store.path)
        csv = tmp_path / "small.csv"
        csv.write_text("u,i\na,x\n", encoding="utf-8")
        assert main(["import", "csv", str(csv), "--name", "jobboard", "--user-col", "u",
                     "--item-col", "i", "--db", str(store.path)]) == 0
        return "jobboard"

    monkeypatch.setattr(engine.demo, "build_demo", fake_build_demo)
    db = tmp_path / "new" / "s.duckdb"
    rc, out, _ = run(capsys, "serve", "--db", db)
    assert rc == 0 and built == [db.resolve()]
    assert "building the demo" in out and len(exec_calls) == 1
    rc, out, _ = run(capsys, "serve", "--db", db)  # now it holds a dataset: no rebuild
    assert rc == 0 and built == [db.resolve()] and "building the demo" not in out
