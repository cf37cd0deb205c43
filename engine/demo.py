"""`recscope demo`: build the built-in demo in a store.

Steps, each with progress: the synthetic job board (interactions, postings, users and
company reviews); then each feature's own step from ``_steps`` below (train the
default recommenders, train and score the review classifier, start an example bandit
experiment). Each step is a function ``step(store, dataset_name, seed, progress)``.
"""

from __future__ import annotations

from engine.data.synthetic import make_job_board
from engine.errors import DataError
from engine.pipeline import demo_step as train_default_recommenders
from engine.progress import ProgressFn, null_progress
from engine.services.bandit_experiments import demo_step as start_bandit_experiment
from engine.services.reviews import demo_step as train_review_classifier
from engine.store import Store
from engine.store.datasets import dataset_footprint, save_dataset

DEMO_NAME = "jobboard"


def _build_dataset(store: Store, name: str, seed: int, progress: ProgressFn) -> None:
    progress("generate job board", 0, 1)
    ds = make_job_board(seed=seed, name=name)
    progress("generate job board", 1, 1)
    progress("store dataset", 0, 1)
    save_dataset(store, ds, replace=True)
    progress("store dataset", 1, 1)


def _steps():
    """The demo's steps in order; a feature adds its own (one import + one entry)."""
    return [_build_dataset, train_default_recommenders, train_review_classifier,
            start_bandit_experiment]


def replace_note(store: Store, name: str = DEMO_NAME, replace: bool = False) -> str | None:
    """Before rebuilding the demo: what it would drop besides the demo dataset's own rows.

    The demo touches only its dataset. When that dataset already has runs or review
    models (perhaps trained by a person), rebuilding drops them: without ``replace`` that
    is refused with one sentence (DataError); with it, the returned sentence says what is
    dropped. None when there is nothing to drop.
    """
    import json

    fp = dataset_footprint(store, name)
    if not fp or (not fp["run_ids"] and not fp["n_review_models"]):
        return None
    runs = set(fp["run_ids"])
    using = []
    for exp_id, exp_name, arms in fp["experiments"]:
        try:
            arm_runs = {a.get("run_id") for a in json.loads(arms or "[]") if isinstance(a, dict)}
        except ValueError:
            continue
        if arm_runs & runs:
            using.append(int(exp_id))
    what = f"{len(runs):,} run(s) and {fp['n_review_models']:,} review model(s) of {name!r}"
    if using:
        what += (f" (runs used as arms by bandit experiment(s) "
                 f"{', '.join(map(str, using))}, which will show them as deleted)")
    if not replace:
        raise DataError(f"The store already holds the demo dataset {name!r} with {what}; "
                        f"rebuilding it would drop them, so pass --replace to do that.")
    return f"replacing the demo dataset: dropping {what}; human labels are kept."


def build_demo(store: Store, seed: int = 0, name: str = DEMO_NAME,
               progress: ProgressFn = null_progress) -> str:
    """Build (or rebuild) the demo dataset and everything derived from it. Returns its name."""
    for step in _steps():
        step(store, name, seed, progress)
    return name
