"""Pages under concurrent writers: every page is loaded in a loop while trainers
(`python -m engine train`), importers (`import csv`), a bandit stepper (`bandit step`) and
a labeller (what the Flagged-reviews page's buttons do) write to the same store.

No load may show Streamlit's error box (a busy store shows one line and retries), and
afterwards the store holds exactly what the writers reported: runs, datasets, labels
and bandit decisions. Bounded: a fixed number of writes, about two minutes in all.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time

import pytest

from tests.browser.conftest import ROOT, shot, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DS = "jobs"
RDS = "revs"
N_TRAIN = 4          # trainer rounds, two runs each
N_IMPORT = 3         # datasets imported
N_STEP = 10          # `bandit step --batches 2`
N_LABEL = 30         # label writes
BUDGET_S = 150       # the page loop stops when the writers are done or after this

LABELLER = """
import sys, time
from engine.store import Store
from engine.store import reviews as rdb
store, n = Store(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    rdb.append_labels(store, sys.argv[3], [f"R{i:04d}"], "fine" if i % 2 else "meaningless", "bot")
    time.sleep(1.5)
print(n)
"""


def _cli(db, *args, timeout: float = 600) -> str:
    res = subprocess.run([sys.executable, "-m", "engine", *args, "--db", str(db)], cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, (args, res.stdout[-2000:], res.stderr[-2000:])
    return res.stdout


def _events(path, n_users: int, seed: int) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "item", "ts"])
        for u in range(n_users):
            for n in range(8):
                w.writerow([f"u{u}", f"i{(u * 7 + n * 3 + seed) % 60}", f"2026-01-{1 + n:02d}"])


def _counts(db) -> dict:
    from engine.store import Store

    store = Store(db)
    return {"runs": int(store.scalar("SELECT count(*) FROM runs WHERE status = 'done'")),
            "datasets": int(store.scalar("SELECT count(*) FROM datasets")),
            "labels": int(store.scalar("SELECT count(*) FROM review_labels")),
            "steps": int(store.scalar("SELECT n_steps FROM bandit_experiments "
                                      "WHERE experiment_id = 1"))}


@pytest.fixture(scope="module")
def busy_db(tmp_path_factory):
    from tests.fixtures.reviews import make_reviews

    tmp = tmp_path_factory.mktemp("concurrent")
    db = tmp / "concurrent.duckdb"
    _events(tmp / "events.csv", 150, 0)
    _cli(db, "import", "csv", str(tmp / "events.csv"), "--name", DS, "--user-col", "user",
         "--item-col", "item", "--time-col", "ts")
    _cli(db, "train", "--dataset", DS, "--algos", "popularity,itemknn")
    _cli(db, "bandit", "create", "--arms", "0.04,0.05,0.045", "--batch", "50", "--name", "ab")
    _cli(db, "bandit", "step", "1")
    make_reviews(80).to_csv(tmp / "reviews.csv", index=False)
    _cli(db, "import", "reviews", str(tmp / "reviews.csv"), "--name", RDS, "--text-col", "text",
         "--label-col", "label", "--id-col", "review_id")
    _cli(db, "reviews", "train", "--dataset", RDS)
    for i in range(N_IMPORT):
        _events(tmp / f"more{i}.csv", 60, i + 1)
    return db, tmp


def _writers(db, tmp) -> list[tuple[str, subprocess.Popen]]:
    """The writers, spread over about a minute (pauses between writes), so that pages
    load before, between and during them."""
    py = sys.executable
    train = " ; ".join(
        f"{py} -m engine train --dataset {DS} --algos popularity,itemknn --seed {s} "
        f"--test-fraction 0.2 --json --db {db} && sleep 6" for s in range(N_TRAIN))
    imports = " ; ".join(
        f"{py} -m engine import csv {tmp}/more{i}.csv --name more{i} --user-col user "
        f"--item-col item --time-col ts --db {db} && echo IMPORTED && sleep 12"
        for i in range(N_IMPORT))
    steps = " ; ".join(f"{py} -m engine bandit step 1 --batches 2 --db {db} && sleep 3"
                       for _ in range(N_STEP))
    cmds = {"train": train, "import": imports, "step": steps,
            "label": f"{py} -c '{LABELLER}' {db} {N_LABEL} {RDS}"}
    return [(name, subprocess.Popen(["bash", "-c", cmd], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True))
            for name, cmd in cmds.items()]


def test_pages_under_concurrent_writers(serve, busy_db, page):
    db, tmp = busy_db
    base = serve(db)
    before = _counts(db)
    pages = ["/", f"/runs?dataset={DS}", f"/compare?dataset={DS}", f"/item?dataset={DS}&item=i3",
             f"/reviews?dataset={RDS}", "/bandits?experiment=1"]
    procs = _writers(db, tmp)
    loads, errors, busy = 0, [], 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < BUDGET_S:
            for path in pages:
                page.goto(base + path)
                wait_idle(page)
                loads += 1
                if page.locator("[data-testid='stException']").count():
                    errors.append((path, page.locator("[data-testid='stException']").first.inner_text()[:800]))
                    shot(page, f"concurrent-error-{len(errors)}")
                busy += page.get_by_text("The store is busy").count()
            if all(p.poll() is not None for _, p in procs):
                break
    finally:
        outs = {}
        for name, p in procs:
            try:
                out, err = p.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
            outs[name] = (p.returncode, out, err)
    for name, (rc, out, err) in outs.items():
        assert rc == 0, (name, out[-1500:], err[-1500:])
    assert not errors, f"{len(errors)} of {loads} loads showed the error box: {errors[:3]}"
    assert loads >= 2 * len(pages), loads

    trained = sum(len(json.loads(chunk)) for chunk in
                  re.findall(r"^\[.*?^\]", outs["train"][1], flags=re.S | re.M))
    imported = outs["import"][1].count("IMPORTED")
    decisions = sum(int(n) for n in re.findall(r"experiment 1: (\d+) decisions", outs["step"][1]))
    labelled = int(outs["label"][1].split()[-1])
    assert (trained, imported, labelled) == (2 * N_TRAIN, N_IMPORT, N_LABEL)
    after = _counts(db)
    assert after["runs"] == before["runs"] + trained
    assert after["datasets"] == before["datasets"] + imported
    assert after["labels"] == before["labels"] + labelled
    assert after["steps"] == before["steps"] + decisions and decisions == N_STEP * 2 * 50
    print(f"{loads} page loads, {busy} busy notices, 0 error boxes; "
          f"{trained} runs, {imported} datasets, {labelled} labels, {decisions} decisions written")
