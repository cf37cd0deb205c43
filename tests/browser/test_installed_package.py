"""recscope as a colleague installs it: a wheel in a fresh virtual environment, run from
an unrelated folder; and `recscope serve` listening on loopback wherever it starts.

The wheel test builds the wheel from a copy of the source tree (`pip wheel --no-deps`,
with pip's usual build isolation, so it needs the package index for setuptools), checks
its file list, and installs it (not editable) into a new venv in a temporary folder.
To keep CI fast that venv is created without pip and sees the dependencies through a
``.pth`` file naming this interpreter's site-packages; the wheel itself goes in with
``pip --python <venv> install --no-deps``. A plain path line in a .pth file does not
process the .pth files of that folder, so an editable install of recscope there is not
loaded; the test checks that ``engine`` and ``viewer`` come from the new venv. Every
command runs with PYTHONPATH unset and the working folder outside the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.server import wait_healthy
from tests.browser.conftest import ARTIFACTS, ROOT, _free_port, no_exception, shot, wait_idle

#: page url path -> text its main area shows once rendered (the Home page is "/")
PAGES = {"": "recscope", "runs": "Runs", "compare": "Compare", "item": "Item",
         "reviews": "reviews", "bandits": "Bandits"}


def _clean_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RECSCOPE_DB")}
    env.update(extra)
    return env


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket in LISTEN state on ``port`` (/proc/net)."""
    found = set()
    for name, width in (("tcp", 8), ("tcp6", 32)):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            addr, hexport = fields[1].split(":")
            if fields[3] != "0A" or int(hexport, 16) != port:  # 0A = LISTEN
                continue
            raw = bytes.fromhex(addr)
            # /proc/net prints each 32-bit word in host (little-endian) order
            words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            import ipaddress

            ip = ipaddress.ip_address(words)
            if ip.version == 6 and ip.ipv4_mapped:
                ip = ip.ipv4_mapped
            found.add(str(ip))
    return found


def start_serve(argv: list[str], cwd: Path, env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    """Start `recscope serve ...`; wait until Streamlit answers its health check."""
    port = int(argv[argv.index("--port") + 1])
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    if not wait_healthy(proc, url, 120):
        raise AssertionError(f"recscope serve did not start:\n{log.read_text()}")
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()  # `serve` exec'd Streamlit: this pid is the server
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net (Linux)")
def test_serve_from_another_folder_listens_on_loopback_only(tmp_path):
    from engine.cli import main

    csv = tmp_path / "small.csv"
    csv.write_text("u,i\na,x\nb,y\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"
    assert main(["import", "csv", str(csv), "--name", "small", "--user-col", "u",
                 "--item-col", "i", "--db", str(db)]) == 0
    elsewhere = tmp_path / "elsewhere"  # no .streamlit/ here
    elsewhere.mkdir()
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"serve-loopback-{port}.log"
    proc, _ = start_serve([sys.executable, "-m", "engine", "serve", "--db", str(db),
                           "--port", str(port)], elsewhere,
                          _clean_env(PYTHONPATH=str(ROOT)), log)
    try:
        assert listening_addresses(port) == {"127.0.0.1"}
    finally:
        stop(proc)
    assert log.read_text().splitlines()[0] == f"recscope: store {db.resolve()} (from --db)"


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    skip = {".git", ".venv", "data", "tests", "bench", "docs", "build", ".pytest_cache"}
    shutil.copytree(ROOT, src, ignore=lambda d, names: (
        [n for n in names if (Path(d) == ROOT and n in skip) or n == "__pycache__"
         or n.endswith(".egg-info")]))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                          "-w", str(tmp / "dist"), str(src)],
                         capture_output=True, text=True, env=_clean_env())
    assert out.returncode == 0, out.stdout + out.stderr
    wheel, = (tmp / "dist").glob("recscope-*.whl")
    return wheel


def _venv_with_wheel(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True, check=True,
                               env=_clean_env()).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_recscope_test_deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                    "--no-deps", str(wheel)], check=True, env=_clean_env())
    return venv


@pytest.mark.slow
@pytest.mark.browser
def test_wheel_installed_elsewhere_runs_demo_and_every_page(tmp_path, page):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    # the page scripts, the Streamlit settings and every module of the source tree
    for p in (ROOT / "pages").glob("*.py"):
        assert f"viewer/_pages/{p.name}" in names
    assert "viewer/streamlit_config.toml" in names
    # optional extras stay optional: test tools only under `extra == "test"`
    meta, = (n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [line for line in zipfile.ZipFile(wheel).read(meta).decode().splitlines()
                if line.startswith("Requires-Dist:")]
    assert any(r.startswith("Requires-Dist: streamlit") for r in requires)
    for r in requires:
        if "pytest" in r or "playwright" in r:
            assert "extra ==" in r, r
    for pkg in ("engine", "viewer"):
        for p in (ROOT / pkg).rglob("*.py"):
            assert p.relative_to(ROOT).as_posix() in names

    venv = _venv_with_wheel(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    bin_ = venv / "bin"
    env = _clean_env(XDG_DATA_HOME=str(tmp_path / "xdg"))

    # the installed copy is what runs, not the source tree
    out = subprocess.run([str(bin_ / "python"), "-c", "import engine, viewer.nav as n; "
                          "print(engine.__file__); print(n.PAGES_DIR)"],
                         cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    engine_file, pages_dir = (Path(x) for x in out.stdout.split())
    assert engine_file.is_relative_to(venv) and pages_dir.is_relative_to(venv)
    assert pages_dir.name == "_pages"
    version = subprocess.run([str(bin_ / "recscope"), "--version"], cwd=elsewhere, env=env,
                             capture_output=True, text=True, check=True).stdout.strip()
    from engine import __version__

    assert version == f"recscope {__version__}"  # no git commit outside a clone

    db = tmp_path / "store" / "team.duckdb"
    demo = subprocess.run([str(bin_ / "recscope"), "demo", "--db", str(db)], cwd=elsewhere,
                          env=env, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert f"in {db}" in demo.stdout

    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / f"serve-wheel-{port}.log"
    proc, url = start_serve([str(bin_ / "recscope"), "serve", "--port", str(port)], elsewhere,
                            dict(env, RECSCOPE_DB=str(db),
                                 STREAMLIT_CLIENT_SHOW_ERROR_DETAILS="full"), log)
    try:
        assert log.read_text().splitlines()[0] == (f"recscope: store {db.resolve()} "
                                                   f"(from $RECSCOPE_DB)")
        cmdline = Path(f"/proc/{proc.pid}/cmdline")
        if cmdline.exists():  # Streamlit runs the installed app script
            argv = cmdline.read_bytes().split(b"\0")
            assert Path(argv[4].decode()) == pages_dir.parent / "app.py"
        if Path("/proc/net/tcp").exists():
            assert listening_addresses(port) == {"127.0.0.1"}
        for path, text in PAGES.items():
            page.goto(f"{url}/{path}")
            wait_idle(page)
            no_exception(page)
            main = page.locator("[data-testid='stMain']").inner_text()
            assert text in main, (path, main[:300])
        # the demo's runs are listed on the Runs page
        from engine.store import Store
        from engine.store.runs import list_runs

        runs = list_runs(Store(db), "jobboard")
        algos = set(runs.loc[runs["status"] == "done", "algorithm"])
        assert len(algos) >= 2
        page.goto(f"{url}/runs?dataset=jobboard")
        wait_idle(page)
        no_exception(page)
        page.locator("[data-testid='stDataFrame'] [role='gridcell']").first.wait_for(
            state="attached")
        cells = " ".join(page.locator("[data-testid='stDataFrame'] [role='gridcell']")
                         .all_inner_texts())
        assert all(a in cells for a in algos), (algos, cells[:500])
        shot(page, "installed-wheel-runs")
    finally:
        stop(proc)
