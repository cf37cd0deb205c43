"""Bandits: run, watch and audit multi-armed bandit experiments."""

from pathlib import Path

import streamlit as st

from engine.errors import RecscopeError
from viewer import bandit_charts as charts
from viewer import bandits_view as view
from viewer import state

st.title("Bandits")
st.caption("A bandit moves traffic towards the better arm while the test runs. Watch it "
           "happen here, and check that what you see can be trusted.")


def create_form(expanded: bool) -> None:
    with st.expander("New experiment", expanded=expanded, icon=":material/add:"):
        kind = st.radio("Arms", ["Fixed rates (simulation)", "Recommender runs"],
                        horizontal=True, key="bandit_new_kind")
        with st.form("bandit_new"):
            name = st.text_input("Name", "My experiment")
            c1, c2, c3 = st.columns(3)
            policy = c1.selectbox("Policy", list(view.POLICY_LABELS),
                                  format_func=view.POLICY_LABELS.get)
            batch = c2.number_input("Batch size", 1, 100_000, 100)
            seed = c3.number_input("Seed", 0, 2**31 - 1, 0)
            run_ids, rates, drift, k = None, None, None, 10
            if kind.startswith("Fixed"):
                rates = st.text_input("Arm rates (comma-separated)", "0.04, 0.05, 0.045")
                drift = st.text_input("Drift per 10,000 decisions (optional, one per arm)", "")
            else:
                runs = view.finished_runs()
                if runs.empty:
                    st.info("There are no finished runs in this store yet; train some with "
                            "`recscope train`.")
                run_ids = st.multiselect("Runs (on the same split)", runs["run_id"].tolist(),
                                         format_func=lambda r: f"run {r}: " + str(
                                             runs.set_index("run_id").loc[r, "name"]))
                k = st.number_input("List length k", 1, 1000, 10)
            names = st.text_input("Arm names (optional, comma-separated)", "")
            c1, c2, c3 = st.columns(3)
            epsilon = c1.number_input("epsilon (epsilon-greedy)", 0.0, 1.0, 0.1)
            delay = c2.number_input("Reward delay (batches)", 0, 1000, 0)
            max_steps = c3.number_input("Stop after decisions (0: never)", 0, 10**9, 0)
            go = st.form_submit_button("Create and start", type="primary")
        if go:
            try:
                exp_id = view.create(
                    name=name, policy=policy, batch_size=int(batch), seed=int(seed),
                    rates=view.parse_rates(rates) if rates is not None else None,
                    drift=view.parse_rates(drift) if drift else None,
                    run_ids=run_ids if rates is None else None, k=int(k),
                    arm_names=view.parse_names(names), delay=int(delay),
                    policy_params={"epsilon": float(epsilon)} if policy == "epsilon_greedy" else {},
                    max_steps=int(max_steps) or None, start=True)
            except RecscopeError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                state.set_params(experiment=exp_id)
                st.rerun()


exps = view.experiments()
if exps.empty:
    st.info("No bandit experiments in this store yet. Create one below, run "
            "`recscope bandit simulate ...`, or build the demo with `recscope demo`.",
            icon=":material/info:")
    create_form(expanded=True)
    st.stop()

ids = exps["experiment_id"].astype(int).tolist()
labels = {int(r["experiment_id"]): view.label(r) for _, r in exps.iterrows()}
raw = state.param("experiment")
wanted = state.param("experiment", None, int)
if raw is not None and (wanted is None or wanted not in ids):  # experiment=abc too
    st.warning(f"There is no experiment #{raw} in this store; showing the newest.",
               icon=":material/warning:")
    wanted = None
top = st.columns([3, 1, 1, 1, 2], vertical_alignment="bottom")
exp_id = top[0].selectbox("Experiment", ids, index=ids.index(wanted) if wanted in ids else 0,
                          format_func=labels.get, key="bandit_experiment")
state.set_params(experiment=exp_id)
exp_row = view.experiment(exp_id)
current = str(exp_row["status"])
running = current == "running"
from_log = view.imported(exp_row)
no_run = "Imported from a log: there is nothing to run." if from_log else None
if top[1].button("Start", icon=":material/play_arrow:", help=no_run,
                 disabled=from_log or current in ("running", "finished"), width="stretch"):
    view.start(exp_id)
    st.rerun()
if top[2].button("Pause", icon=":material/pause:", disabled=not running, width="stretch",
                 help=no_run):
    view.pause(exp_id)
    st.rerun()
speed = top[4].selectbox("Speed", list(view.SPEEDS), key="bandit_speed", disabled=from_log)
if top[3].button("Step", icon=":material/skip_next:", disabled=from_log or current == "finished",
                 width="stretch", help=no_run or "Advance one batch"):
    view.step(exp_id, 1)
if from_log:
    st.caption(f":material/info: A real experiment, imported from a production log: its "
               f"decisions are replayed batch by batch, so Start and Step (which run "
               f"simulations) are off. Late rewards: `recscope bandit rewards {exp_id} FILE`.")
create_form(expanded=False)


@st.fragment(run_every=view.REFRESH_SECONDS if running else None)
def live() -> None:
    if running:
        view.tick(exp_id, view.SPEEDS[speed])
    rep = view.report(exp_id)
    if rep.experiment["status"] != current:   # paused elsewhere, or finished
        st.rerun()
    arms = view.chart_arms(rep)
    colors = view.colors(rep)
    n_arms = len(rep.summary)
    simulated = rep.experiment["environment"] in ("fixed", "runs")
    st.markdown(f"**{rep.experiment['name']}** — status **{rep.experiment['status']}**"
                + (" (updates itself)" if running else ""))
    st.caption(view.describe_log(rep) if from_log else view.describe(rep))
    if running:
        st.caption(f":material/autorenew: It advances while a page shows it; "
                   f"`recscope bandit run {exp_id}` keeps it advancing from a terminal.")
    h = view.headline(rep)
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
        st.markdown(f"**{h['leader']}**  \n{h['leader_p']}")
    if not simulated:
        st.caption("Regret and true rates exist only in a simulation; for a real log those "
                   "panels are hidden.")
    note = view.prior_note(rep)
    if note:
        st.warning(note, icon=":material/tune:")

    # Warnings first: they decide whether the rest can be read at face value.
    for alarm in rep.simpson[:3]:
        st.error(alarm.message, icon=":material/warning:")
    if len(rep.simpson) > 3:
        with st.expander(f"{len(rep.simpson) - 3} more Simpson's-paradox alarms",
                         icon=":material/warning:"):
            for alarm in rep.simpson[3:]:
                st.markdown(f"- {alarm.message}")
    if rep.sample_ratio.alarm:
        st.error(rep.sample_ratio.message, icon=":material/warning:")
    elif rep.sample_ratio.warning:
        st.warning(rep.sample_ratio.message, icon=":material/help:")
    stop = rep.stopping
    with st.container(border=True):
        st.markdown("**Stopping rule** — P(best) ≥ "
                    f"{view.RULE.prob_threshold:.2f}, expected loss ≤ {view.RULE.loss_threshold:g}, "
                    f"at least {view.RULE.min_samples:,} rewards")
        if stop.stop:
            st.success(" ".join(stop.reasons), icon=":material/flag:")
        else:
            st.info(" ".join(stop.reasons), icon=":material/hourglass_top:")
        if not (rep.sample_ratio.alarm or rep.sample_ratio.warning):
            st.caption(f"Sample-ratio check: {rep.sample_ratio.message}")

    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.allocation_chart(rep.snapshots, view.busiest_arms(rep), colors), key="alloc")
    c2.plotly_chart(charts.density_chart(rep.density, arms, view.true_rates(rep, arms), colors), key="density")
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.prob_best_chart(rep.snapshots, arms, view.RULE.prob_threshold, colors),
                    key="pbest")
    c2.plotly_chart(charts.reward_regret_chart(rep.snapshots, simulated), key="regret")

    st.subheader("Leaderboard")
    board_config = {
        "Mean": st.column_config.NumberColumn(format="%.4f"),
        "95% low": st.column_config.NumberColumn(format="%.4f"),
        "95% high": st.column_config.NumberColumn(format="%.4f"),
        "P(best)": st.column_config.ProgressColumn(format="%.3f", min_value=0, max_value=1),
        "Expected loss": st.column_config.NumberColumn(format="%.5f"),
        "True rate now (sim)": st.column_config.NumberColumn(format="%.4f")}
    many = n_arms > view.TOP_ROWS
    if many:
        st.caption(f"The {view.TOP_ROWS} arms most likely to be best, of {n_arms}; all of "
                   f"them below.")
    st.dataframe(view.leaderboard_table(rep.summary, view.TOP_ROWS if many else None),
                 hide_index=True, width="stretch", column_config=board_config)
    if many:
        with st.expander(f"All {n_arms} arms", icon=":material/list:"):
            st.dataframe(view.leaderboard_table(rep.summary), hide_index=True,
                         width="stretch", column_config=board_config)
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.leaderboard_chart(rep.summary, arms if n_arms > len(arms) else None,
                                             colors),
                    key="board")
    c2.plotly_chart(charts.period_chart(rep.periods, rep.pooled, arms, colors), key="periods")
    st.markdown("**Per period vs pooled**")
    st.caption("Allocation changes over time; when rates change too, a pooled comparison "
               "can reverse the per-period one (Simpson's paradox). An alarm above says so.")
    periods = view.period_table(rep, view.TOP_ROWS if many else None)
    period_config = {c: st.column_config.NumberColumn(format="%.4f")
                     for c in periods.columns if c != "Arm"}
    st.dataframe(periods, hide_index=True, width="stretch", column_config=period_config)
    if many:
        with st.expander(f"Per period, all {n_arms} arms", icon=":material/list:"):
            st.dataframe(view.period_table(rep), hide_index=True, width="stretch",
                         column_config=period_config)


live()

with st.expander("Off-policy estimate from a logs file", icon=":material/science:"):
    st.caption("Estimate what the uniform policy's click rate would have been, from logs of "
               "another policy with its propensities (Open Bandit Dataset format). Direct "
               "method and doubly robust use per-(item, position) click rates shrunk to the "
               "position's rate as the reward model.")
    bts_default, random_default = view.default_logs()
    path = st.text_input("Logs file", bts_default if Path(bts_default).exists() else "")
    compare = st.text_input("A log of the uniform policy itself, to compare with (optional)",
                            random_default if Path(random_default).exists() else "")
    if path and st.button("Estimate", icon=":material/calculate:"):
        st.session_state["bandit_ope"] = (path, compare)
    if st.session_state.get("bandit_ope"):   # kept across reruns until asked again
        path, compare = st.session_state["bandit_ope"]
        try:
            res = view.ope(path)
            truth = view.ope(compare).logged_rate if compare else None
        except RecscopeError as exc:
            st.error(str(exc), icon=":material/error:")
        else:
            c1, c2 = st.columns([3, 2])
            c1.dataframe(view.ope_table(res, truth), hide_index=True, width="stretch",
                         column_config={"Value": st.column_config.NumberColumn(format="%.5f")})
            c2.metric("Effective sample size", f"{res.ess:,.0f} of {res.n:,}")
            c2.metric("Largest weight", f"{res.max_weight:.1f}")
            c2.caption(f"IPW standard error {res.ipw_se:.5f}; the logging policy's own click "
                       f"rate was {res.logged_rate:.5f}.")
