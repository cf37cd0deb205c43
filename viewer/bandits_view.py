"""What the Bandits page needs: cached reads, actions that write (then invalidate the
cache), and display tables. The page itself only lays these out.

Running without blocking: the page renders its live part in an ``st.fragment`` that
re-runs every ``REFRESH_SECONDS`` while the experiment is running; each re-run calls
``tick`` which advances the experiment by a few batches in one short transaction, then
reads and draws the new state. Pausing sets the status, and the next tick does nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from engine.services import bandit_experiments as ex
from engine.bandits import ope as ope_mod
from engine.bandits.checks import StoppingRule
from engine.bandits.policies import POLICIES
from engine.store import bandits as sql
from viewer import db
from viewer.bandit_charts import arm_colors

REFRESH_SECONDS = 3.0
#: A running experiment stepped by anyone (another tab, `recscope bandit run`) less than
#: this long ago is not stepped again by a refresh: one pace for every driver.
MIN_STEP_INTERVAL = REFRESH_SECONDS * 0.8
SPEEDS = {"1 batch per refresh": 1, "5 batches per refresh": 5, "20 batches per refresh": 20}
POLICY_LABELS = {"thompson": "Thompson sampling", "ucb1": "UCB1",
                 "epsilon_greedy": "epsilon-greedy", "uniform": "uniform (plain A/B test)"}
RULE = StoppingRule()
assert set(POLICY_LABELS) == set(POLICIES)
#: With more arms than this, charts draw the leading ``TOP_ARMS`` and fold the rest into
#: "other", and tables show the leading ``TOP_ROWS`` with the rest in an expander.
MAX_CHART_ARMS = 10
TOP_ARMS = 8
TOP_ROWS = 15


def experiments() -> pd.DataFrame:
    return db.read(sql.list_experiments)


def label(row) -> str:
    return f"#{int(row['experiment_id'])} · {row['name']} ({row['status']})"


def report(experiment_id: int) -> ex.Report:
    return db.read(ex.report, int(experiment_id))


def finished_runs() -> pd.DataFrame:
    return db.read(sql.finished_runs)


def _write(fn, *args, **kwargs):
    try:
        return fn(db.get_store(), *args, **kwargs)
    finally:
        db.invalidate()


def create(**kwargs) -> int:
    """Create an experiment (``kwargs`` as ``engine.services.bandit_experiments.new_experiment``)."""
    start = kwargs.pop("start", False)
    exp_id = _write(ex.new_experiment, **kwargs)
    if start:
        _write(ex.start, exp_id)
    return exp_id


def parse_rates(text: str) -> list[float]:
    from engine.commands.bandits import _floats

    return _floats(text, "Arm rates")


def parse_names(text: str) -> list[str] | None:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or None


def start(experiment_id: int) -> None:
    _write(ex.start, int(experiment_id))


def pause(experiment_id: int) -> None:
    _write(ex.pause, int(experiment_id))


def step(experiment_id: int, n_batches: int = 1) -> int:
    return _write(ex.step, int(experiment_id), int(n_batches))


def tick(experiment_id: int, n_batches: int) -> int:
    """Advance the experiment if it is running and nobody else (another tab, a
    `recscope bandit run`) stepped it within most of a refresh. Cheap when not: one read."""
    n = ex.step_if_due(db.get_store(), int(experiment_id), int(n_batches), MIN_STEP_INTERVAL)
    if n:
        db.invalidate()
    return n


def status(experiment_id: int) -> str:
    return str(sql.get_experiment(db.get_store(), int(experiment_id))["status"])


def imported(rep_or_exp) -> bool:
    """An experiment imported from a production log (nothing to start or step)."""
    e = rep_or_exp.experiment if isinstance(rep_or_exp, ex.Report) else rep_or_exp
    return e["environment"] == "log"


def experiment(experiment_id: int) -> dict:
    return sql.get_experiment(db.get_store(), int(experiment_id))


def ranked_arms(summary: pd.DataFrame) -> list[str]:
    """Arms by probability of being best, then posterior mean (the leaderboard's order)."""
    return summary.sort_values(["prob_best", "mean"], ascending=False, kind="mergesort")[
        "arm"].astype(str).tolist()


def chart_arms(rep: ex.Report) -> list[str]:
    """The arms the charts draw: all of them in the experiment's order, or with many arms
    the ``TOP_ARMS`` leading ones (the charts fold the rest into "other")."""
    arms = rep.summary["arm"].astype(str).tolist()
    return arms if len(arms) <= MAX_CHART_ARMS else ranked_arms(rep.summary)[:TOP_ARMS]


def busiest_arms(rep: ex.Report) -> list[str]:
    """The arms the allocation chart draws: all, or with many arms the ``TOP_ARMS`` with
    the most decisions (the arms most likely best may have had little traffic)."""
    arms = rep.summary["arm"].astype(str).tolist()
    if len(arms) <= MAX_CHART_ARMS:
        return arms
    return (rep.summary.sort_values("pulls", ascending=False, kind="mergesort")["arm"]
            .astype(str).tolist()[:TOP_ARMS])


def colors(rep: ex.Report) -> dict:
    """{arm: colour} for every chart: the drawn arms keep one colour across charts."""
    drawn = chart_arms(rep)
    return arm_colors(drawn + [a for a in busiest_arms(rep) if a not in drawn])


def prior_note(rep: ex.Report) -> str | None:
    """A sentence when the prior's mean is far from the observed reward rate: then arms
    with few decisions lead on the prior alone (a Beta(1, 1) prior with 0.4% clicks).

    Only for imported logs: the advice is a flag of `bandit import`, and a simulation
    runs with the prior it was given on purpose (Beta(1, 1) by default)."""
    e, s = rep.experiment, rep.summary
    if e.get("environment") != "log":
        return None
    n_obs, succ = float(s["n_obs"].sum()), float(s["successes"].sum())
    if n_obs <= 0 or succ <= 0:
        return None
    rate = succ / n_obs
    a, b = float(e["prior_alpha"]), float(e["prior_beta"])
    mean = a / (a + b)
    if rate / 5 <= mean <= rate * 5:
        return None
    suggested = max(1, round(a * (1 - rate) / rate))
    return (f"The Beta({a:g}, {b:g}) prior has mean {mean:.3f}, far from the observed rate "
            f"{rate:.4f}: arms with few decisions can lead on the prior alone. A prior "
            f"centred on the observed rate, e.g. `--prior {a:g},{suggested}` at import (the "
            f"weight of about {a + suggested:,.0f} decisions), reads the log more soberly.")


def true_rates(rep: ex.Report, arms: list[str]) -> list[float] | None:
    """A simulation's true rates of ``arms`` (in that order); None for a real log."""
    if rep.true_rates is None:
        return None
    by_arm = dict(zip(rep.summary["arm"].astype(str), rep.true_rates))
    return [by_arm[str(a)] for a in arms]


def headline(rep: ex.Report) -> dict:
    """Figures for the metric row."""
    e = rep.experiment
    lead = rep.summary.sort_values("prob_best", ascending=False).iloc[0]
    pending = int(rep.summary["pulls"].sum() - rep.summary["n_obs"].sum())
    return {"pending": f"{pending:,}", "decisions": f"{int(e['n_steps'] or 0):,}", "batches": f"{int(e['n_batches'] or 0):,}",
            "successes": f"{int(rep.summary['successes'].sum()):,}",
            "arrived": f"of {int(rep.summary['n_obs'].sum()):,} rewards arrived",
            "regret": f"{float(e['cum_regret'] or 0):.1f}",
            "leader": f"{lead['arm']}", "leader_p": f"P(best) {lead['prob_best']:.3f}"}


def describe(rep: ex.Report) -> str:
    e = rep.experiment
    bits = [POLICY_LABELS.get(e["policy"], e["policy"]), f"batches of {e['batch_size']}",
            f"seed {e['seed']}", f"Beta({e['prior_alpha']:g}, {e['prior_beta']:g}) prior"]
    if e.get("reward_delay"):
        bits.append(f"rewards arrive {e['reward_delay']} batch(es) late")
    if e.get("max_steps"):
        bits.append(f"stops at {int(e['max_steps']):,} decisions")
    if e["environment"] == "fixed":
        bits.append("simulated arms with rates " + ", ".join(
            f"{a['rate']:g}" + (f" (drift {a['drift']:+g}/10k)" if a.get("drift") else "")
            for a in e["arms"]))
    elif e["environment"] == "runs":
        bits.append(f"arms are recommender runs: reward when the top-{e['env_params'].get('k', 10)} "
                    f"list of a held-out user hits one of their test items")
    return " · ".join(bits)


def describe_log(rep: ex.Report) -> str:
    """What an imported experiment is: its file, period, batching and prior."""
    e, p = rep.experiment, rep.experiment.get("env_params") or {}
    first, last = str(p.get("first_ts", ""))[:16], str(p.get("last_ts", ""))[:16]
    batching = (f"batches from column {p['batch_col']!r}" if p.get("batch_col")
                else f"batches of {int(e['batch_size']):,} decisions in time order")
    return " · ".join([
        f"imported from {Path(str(p.get('source', '?'))).name}",
        f"{int(e['n_steps'] or 0):,} decisions on {len(e['arms'])} arms, {first} to {last}",
        batching, f"logged by {POLICY_LABELS.get(e['policy'], e['policy'])}",
        f"Beta({e['prior_alpha']:g}, {e['prior_beta']:g}) prior"])


def leaderboard_table(summary: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Arms by P(best), renamed for display; only the first ``top`` when given."""
    cols = {"arm": "Arm", "pulls": "Decisions", "n_obs": "Rewards arrived",
            "successes": "Successes", "mean": "Mean", "lo": "95% low", "hi": "95% high",
            "prob_best": "P(best)", "expected_loss": "Expected loss"}
    if "true_rate" in summary:
        cols["true_rate"] = "True rate now (sim)"
    order = ranked_arms(summary)
    table = (summary.set_index("arm", drop=False).loc[order[:top] if top else order, list(cols)]
             .rename(columns=cols).reset_index(drop=True))
    return table


def period_table(rep: ex.Report, top: int | None = None) -> pd.DataFrame:
    """One row per arm (leaderboard order; the first ``top`` when given): its rate in each
    period, then pooled."""
    if rep.periods.empty:
        return pd.DataFrame()
    p = rep.periods.assign(col=lambda d: "P" + (d["period"] + 1).astype(str) + " (batches "
                           + d["first_batch"].astype(str) + "–" + d["last_batch"].astype(str) + ")")
    wide = p.pivot(index="arm", columns="col", values="rate")
    wide = wide[sorted(wide.columns, key=lambda c: int(c.split()[0][1:]))]
    wide["pooled"] = rep.pooled.set_index("arm")["rate"]
    order = rep.summary["arm"].tolist()
    if top:
        order = ranked_arms(rep.summary)[:top]
    return wide.reindex(order).reset_index().rename(columns={"arm": "Arm"})


def default_logs() -> tuple[str, str]:
    """Paths of the OBD sample's Thompson-sampling and random logs (may not exist)."""
    root = Path(os.environ.get("RECSCOPE_SHARED") or
                Path(__file__).resolve().parents[1].parent / "shared")
    obd = root / "datasets" / "bandits" / "obd"
    return str(obd / "bts" / "all.csv"), str(obd / "random" / "all.csv")


@st.cache_data(show_spinner=False, max_entries=16)
def _ope_cached(path: str, mtime: float, reward_model: str):  # noqa: ARG001 (cache key)
    # Not db.read: the estimate depends on the logs file, not on the store's version.
    return ope_mod.evaluate_file(path, "uniform", reward_model)


def ope(path: str, reward_model: str = "means") -> ope_mod.OPEResult:
    """Off-policy estimate of the uniform policy from a logs file, cached per file version."""
    p = Path(path).expanduser()
    mtime = p.stat().st_mtime if p.exists() else 0.0
    return _ope_cached(str(p), mtime, reward_model)


def ope_table(res: ope_mod.OPEResult, on_policy: float | None = None) -> pd.DataFrame:
    rows = [("IPW", res.ipw), ("Self-normalised IPW", res.snipw), ("Direct method", res.dm),
            ("Doubly robust", res.dr)]
    if on_policy is not None:
        rows.append(("On-policy click rate of the uniform log", on_policy))
    return pd.DataFrame(rows, columns=["Estimate of the uniform policy's click rate", "Value"])
