"""What the Bandits page needs: cached reads, actions that write (then invalidate the
cache), display tables, and the page's sections (``create_form``, ``controls``,
``live``, ``ope_section``). The page itself only lays these out.

URL parameter: experiment (an experiment id; an unknown one gets a warning and the
newest is shown).

Running without blocking: the page renders its live part in an ``st.fragment`` that
re-runs every ``REFRESH_SECONDS`` while the experiment is running; each re-run calls
``tick`` which advances the experiment by a few batches in one short transaction, then
reads and draws the new state. Pausing sets the status, and the next tick does nothing.
A session's first draw of an experiment does not tick (it shows the stored state at
once, from the cache), unless the experiment has no decision yet.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from engine.bandits import ope as ope_mod
from engine.bandits.checks import StoppingRule
from engine.bandits.policies import POLICIES
from engine.errors import RecscopeError, StoreBusy
from engine.services import bandit_experiments as ex
from engine.store import bandits as sql
from engine.validate import check_floats
from viewer import bandit_charts as charts
from viewer import components, db, state
from viewer.bandit_charts import arm_colors
from viewer.safe import md

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
    return check_floats(text, "Arm rates")


def parse_names(text: str) -> list[str] | None:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or None


def start(experiment_id: int) -> None:
    _write(ex.start, int(experiment_id))


def pause(experiment_id: int) -> None:
    _write(ex.pause, int(experiment_id))


def step(experiment_id: int, n_batches: int = 1) -> int:
    """Advance by hand; a refusal (e.g. an arm's run was deleted) is one warning."""
    try:
        return _write(ex.step, int(experiment_id), int(n_batches))
    except StoreBusy:
        raise
    except RecscopeError as exc:
        st.warning(md(exc, 300), icon=":material/warning:")
        return 0


def tick(experiment_id: int, n_batches: int) -> int:
    """Advance the experiment if it is running and nobody else (another tab, a
    `recscope bandit run`) stepped it within most of a refresh. Cheap when not: one read."""
    try:
        n = ex.step_if_due(db.get_store(), int(experiment_id), int(n_batches), MIN_STEP_INTERVAL)
    except RecscopeError as exc:   # e.g. an arm's run deleted since the report was read
        if isinstance(exc, StoreBusy):
            raise
        st.warning(md(exc, 300), icon=":material/warning:")
        return 0
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
    return db.read(sql.get_experiment, int(experiment_id))   # fresh after any write


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
        f"imported from {md(Path(str(p.get('source', '?'))).name)}",
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


# --------------------------------------------------------------------------- page sections

def create_form(expanded: bool) -> None:
    """"New experiment": fixed-rate arms (a simulation) or recommender runs as arms."""
    with st.expander("New experiment", expanded=expanded, icon=":material/add:"):
        kind = st.radio("Arms", ["Fixed rates (simulation)", "Recommender runs"],
                        horizontal=True, key="bandit_new_kind")
        with st.form("bandit_new"):
            name = st.text_input("Name", "My experiment")
            c1, c2, c3 = st.columns(3)
            policy = c1.selectbox("Policy", list(POLICY_LABELS), format_func=POLICY_LABELS.get)
            batch = c2.number_input("Batch size", 1, 100_000, 100)
            seed = c3.number_input("Seed", 0, 2**31 - 1, 0)
            run_ids, rates, drift, k = None, None, None, 10
            if kind.startswith("Fixed"):
                rates = st.text_input("Arm rates (comma-separated)", "0.04, 0.05, 0.045")
                drift = st.text_input("Drift per 10,000 decisions (optional, one per arm)", "")
            else:
                runs = finished_runs()
                if runs.empty:
                    st.info("There are no finished runs in this store yet; train some with "
                            "`recscope train`.")
                labels = {int(r["run_id"]): components.run_label(r) for _, r in runs.iterrows()}
                run_ids = st.multiselect("Runs (on the same split)", list(labels),
                                         format_func=labels.get)
                k = st.number_input("List length k", 1, 1000, 10)
            names = st.text_input("Arm names (optional, comma-separated)", "")
            c1, c2, c3 = st.columns(3)
            epsilon = c1.number_input("epsilon (epsilon-greedy)", 0.0, 1.0, 0.1)
            delay = c2.number_input("Reward delay (batches)", 0, 1000, 0)
            max_steps = c3.number_input("Stop after decisions (0: never)", 0, 10**9, 0)
            go = st.form_submit_button("Create and start", type="primary")
        if go:
            try:
                exp_id = create(
                    name=name, policy=policy, batch_size=int(batch), seed=int(seed),
                    rates=parse_rates(rates) if rates is not None else None,
                    drift=parse_rates(drift) if drift else None,
                    run_ids=run_ids if rates is None else None, k=int(k),
                    arm_names=parse_names(names), delay=int(delay),
                    policy_params={"epsilon": float(epsilon)} if policy == "epsilon_greedy" else {},
                    max_steps=int(max_steps) or None, start=True)
            except RecscopeError as exc:
                st.error(md(exc, 300), icon=":material/error:")
            else:
                state.set_params(experiment=exp_id)
                st.rerun()


def no_experiments() -> None:
    st.info("No bandit experiments in this store yet. Create one below, run "
            "`recscope bandit simulate ...`, or build the demo with `recscope demo`.",
            icon=":material/info:")
    create_form(expanded=True)


def controls(exps: pd.DataFrame) -> tuple[int, str, bool, int]:
    """The experiment picker (URL ``experiment``) with Start, Pause, Step and Speed.
    Returns (experiment id, its status, whether it came from a log, batches per refresh)."""
    ids = exps["experiment_id"].astype(int).tolist()
    labels = {int(r["experiment_id"]): label(r) for _, r in exps.iterrows()}
    top = st.columns([3, 1, 1, 1, 2], vertical_alignment="bottom")
    exp_id = components.bound_select(
        "Experiment", ids, "experiment", ids[0], key="bandit_experiment", cast=int,
        format_func=labels.get, where=top[0],
        unknown="There is no experiment #{raw} in this store; showing the newest.")
    exp_row = experiment(exp_id)
    current = str(exp_row["status"])
    from_log = imported(exp_row)
    no_run = "Imported from a log: there is nothing to run." if from_log else None
    if top[1].button("Start", icon=":material/play_arrow:", help=no_run,
                     disabled=from_log or current in ("running", "finished"), width="stretch"):
        start(exp_id)
        st.rerun()
    if top[2].button("Pause", icon=":material/pause:", disabled=current != "running",
                     width="stretch", help=no_run):
        pause(exp_id)
        st.rerun()
    speed = top[4].selectbox("Speed", list(SPEEDS), key="bandit_speed", disabled=from_log)
    if top[3].button("Step", icon=":material/skip_next:", width="stretch",
                     disabled=from_log or current == "finished", help=no_run or "Advance one batch"):
        step(exp_id, 1)
    if from_log:
        st.caption(f":material/info: A real experiment, imported from a production log: its "
                   f"decisions are replayed batch by batch, so Start and Step (which run "
                   f"simulations) are off. Late rewards: `recscope bandit rewards {exp_id} FILE`.")
    return exp_id, current, from_log, SPEEDS[speed]


def live(exp_id: int, current: str, from_log: bool, batches: int) -> None:
    """Everything about the experiment's state, redrawn every ``REFRESH_SECONDS`` while
    it runs (an ``st.fragment``; each refresh first advances it ``batches`` by ``tick``)."""
    running = current == "running"
    drawn = f"_bandit_drawn_{exp_id}"

    @st.fragment(run_every=REFRESH_SECONDS if running else None)
    def _live() -> None:
        with db.busy_guard(scope="fragment"):   # its own reruns bypass app.py's guard
            rep = report(exp_id)
            # The session's first draw shows the stored state: a page load pays for no
            # write and no recomputed report; the refreshes (and later reruns) advance
            # it. An experiment with no decision yet takes its first step at once.
            first = drawn not in st.session_state
            st.session_state[drawn] = True
            due = not first or not int(rep.experiment.get("n_steps") or 0)
            if running and due and not rep.deleted_arms and tick(exp_id, batches):
                rep = report(exp_id)
            if rep.experiment["status"] != current:   # paused elsewhere, or finished
                st.rerun()
            _headline(rep, exp_id, running, from_log)
            _checks(rep)
            _charts_and_tables(rep)

    _live()


def _headline(rep: ex.Report, exp_id: int, running: bool, from_log: bool) -> None:
    simulated = rep.experiment["environment"] in ("fixed", "runs")
    st.markdown(f"**{md(rep.experiment['name'])}** — status **{md(rep.experiment['status'])}**"
                + (" (updates itself)" if running else ""))
    st.caption(describe_log(rep) if from_log else describe(rep))
    if rep.deleted_arms:
        st.info("Deleted: " + "; ".join(f"the run behind arm “{md(name)}” (run {rid})"
                                        for name, rid in rep.deleted_arms)
                + ". What was recorded is shown; the experiment cannot advance.",
                icon=":material/delete:")
    if running:
        st.caption(f":material/autorenew: It advances while a page shows it; "
                   f"`recscope bandit run {exp_id}` keeps it advancing from a terminal.")
    h = headline(rep)
    m = st.columns(5)
    m[0].metric("Decisions", h["decisions"])
    m[1].metric("Batches", h["batches"])
    m[2].metric("Successes", h["successes"], h["arrived"], delta_color="off", delta_arrow="off")
    if simulated:
        m[3].metric("Expected regret (sim)", h["regret"])
    else:
        m[3].metric("Rewards pending", h["pending"])
    with m[4]:   # a name can be long: text wraps where a metric would cut it
        st.caption("Leading arm")
        st.markdown(f"**{md(h['leader'])}**  \n{h['leader_p']}")
    if not simulated:
        st.caption("Regret and true rates exist only in a simulation; for a real log those "
                   "panels are hidden.")
    note = prior_note(rep)
    if note:
        st.warning(note, icon=":material/tune:")


def _checks(rep: ex.Report) -> None:
    """Warnings first: they decide whether the rest can be read at face value."""
    for alarm in rep.simpson[:3]:
        st.error(md(alarm.message, None), icon=":material/warning:")
    if len(rep.simpson) > 3:
        with st.expander(f"{len(rep.simpson) - 3} more Simpson's-paradox alarms",
                         icon=":material/warning:"):
            for alarm in rep.simpson[3:]:
                st.markdown(f"- {md(alarm.message, None)}")
    if rep.sample_ratio.alarm:
        st.error(md(rep.sample_ratio.message, None), icon=":material/warning:")
    elif rep.sample_ratio.warning:
        st.warning(md(rep.sample_ratio.message, None), icon=":material/help:")
    stop = rep.stopping
    with st.container(border=True):
        st.markdown("**Stopping rule** — P(best) ≥ "
                    f"{RULE.prob_threshold:.2f}, expected loss ≤ {RULE.loss_threshold:g}, "
                    f"at least {RULE.min_samples:,} rewards")
        if stop.stop:
            st.success(md(" ".join(stop.reasons), None), icon=":material/flag:")
        else:
            st.info(md(" ".join(stop.reasons), None), icon=":material/hourglass_top:")
        if not (rep.sample_ratio.alarm or rep.sample_ratio.warning):
            st.caption(f"Sample-ratio check: {md(rep.sample_ratio.message, None)}")


def _charts_and_tables(rep: ex.Report) -> None:
    arms = chart_arms(rep)
    palette = colors(rep)
    n_arms = len(rep.summary)
    simulated = rep.experiment["environment"] in ("fixed", "runs")
    # figures are kept per experiment and store version: building them costs more than
    # reading the report (the speed picker and each refresh rerun this)
    c1, c2 = st.columns(2)
    c1.plotly_chart(_fig(rep, charts.allocation_chart, rep.snapshots, busiest_arms(rep), palette), key="alloc")
    c2.plotly_chart(_fig(rep, charts.density_chart, rep.density, arms, true_rates(rep, arms), palette),
                    key="density")
    c1, c2 = st.columns(2)
    c1.plotly_chart(_fig(rep, charts.prob_best_chart, rep.snapshots, arms, RULE.prob_threshold, palette),
                    key="pbest")
    c2.plotly_chart(_fig(rep, charts.reward_regret_chart, rep.snapshots, simulated), key="regret")

    st.subheader("Leaderboard")
    board_config = {
        "Mean": st.column_config.NumberColumn(format="%.4f"),
        "95% low": st.column_config.NumberColumn(format="%.4f"),
        "95% high": st.column_config.NumberColumn(format="%.4f"),
        "P(best)": st.column_config.ProgressColumn(format="%.3f", min_value=0, max_value=1),
        "Expected loss": st.column_config.NumberColumn(format="%.5f"),
        "True rate now (sim)": st.column_config.NumberColumn(format="%.4f")}
    many = n_arms > TOP_ROWS
    if many:
        st.caption(f"The {TOP_ROWS} arms most likely to be best, of {n_arms}; all of them below.")
    st.dataframe(leaderboard_table(rep.summary, TOP_ROWS if many else None),
                 hide_index=True, width="stretch", column_config=board_config)
    if many:
        with st.expander(f"All {n_arms} arms", icon=":material/list:"):
            st.dataframe(leaderboard_table(rep.summary), hide_index=True,
                         width="stretch", column_config=board_config)
    c1, c2 = st.columns(2)
    c1.plotly_chart(_fig(rep, charts.leaderboard_chart, rep.summary, arms if n_arms > len(arms) else None,
                                             palette), key="board")
    c2.plotly_chart(_fig(rep, charts.period_chart, rep.periods, rep.pooled, arms, palette), key="periods")
    st.markdown("**Per period vs pooled**")
    st.caption("Allocation changes over time; when rates change too, a pooled comparison "
               "can reverse the per-period one (Simpson's paradox). An alarm above says so.")
    periods = period_table(rep, TOP_ROWS if many else None)
    period_config = {c: st.column_config.NumberColumn(format="%.4f")
                     for c in periods.columns if c != "Arm"}
    st.dataframe(periods, hide_index=True, width="stretch", column_config=period_config)
    if many:
        with st.expander(f"Per period, all {n_arms} arms", icon=":material/list:"):
            st.dataframe(period_table(rep), hide_index=True, width="stretch",
                         column_config=period_config)


def _fig(rep: ex.Report, builder, *args):
    return db.figure(f"bandits.{builder.__name__}", (int(rep.experiment["experiment_id"]),),
                     builder, *args)


def ope_section() -> None:
    """"Off-policy estimate from a logs file": the uniform policy's click rate from logs
    of another policy; the result stays on the page until asked again."""
    with st.expander("Off-policy estimate from a logs file", icon=":material/science:"):
        st.caption("Estimate what the uniform policy's click rate would have been, from logs "
                   "of another policy with its propensities (Open Bandit Dataset format). "
                   "Direct method and doubly robust use per-(item, position) click rates "
                   "shrunk to the position's rate as the reward model.")
        bts_default, random_default = default_logs()
        path = st.text_input("Logs file", bts_default if Path(bts_default).exists() else "")
        compare = st.text_input("A log of the uniform policy itself, to compare with (optional)",
                                random_default if Path(random_default).exists() else "")
        if path and st.button("Estimate", icon=":material/calculate:"):
            st.session_state["bandit_ope"] = (path, compare)
        if not st.session_state.get("bandit_ope"):   # kept across reruns until asked again
            return
        path, compare = st.session_state["bandit_ope"]
        try:
            res = ope(path)
            truth = ope(compare).logged_rate if compare else None
        except RecscopeError as exc:
            st.error(md(exc, 300), icon=":material/error:")
            return
        c1, c2 = st.columns([3, 2])
        c1.dataframe(ope_table(res, truth), hide_index=True, width="stretch",
                     column_config={"Value": st.column_config.NumberColumn(format="%.5f")})
        c2.metric("Effective sample size", f"{res.ess:,.0f} of {res.n:,}")
        c2.metric("Largest weight", f"{res.max_weight:.1f}")
        c2.caption(f"IPW standard error {res.ipw_se:.5f}; the logging policy's own click "
                   f"rate was {res.logged_rate:.5f}.")
