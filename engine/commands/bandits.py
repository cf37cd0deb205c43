"""`recscope bandit ...`: simulate, create/start/pause/step/show experiments, and
off-policy evaluation from logs."""

from __future__ import annotations

import argparse
import sys
import time

from engine.bandits.ope import evaluate_file
from engine.cli import add_db_arg, add_json_arg, get_store, print_json
from engine.errors import DataError
from engine.progress import TqdmProgress
from engine.services import bandit_experiments as ex
from engine.services.bandit_logs import DEFAULT_COLUMNS, add_rewards, import_log
from engine.store import bandits as sql
from engine.validate import (
    BOUNDS,
    arg_float,
    arg_int,
    arg_name,
    check_floats,
    check_ints,
    check_name,
)


def _floats(text: str, what: str, low=None, high=None) -> list[float]:
    # engine.validate: finite numbers only (NaN/inf refused), each within [low, high]
    return check_floats(text, what, low, high)


def _ints(text: str, what: str) -> list[int]:
    return check_ints(text, what, *BOUNDS["id"])


def _add_experiment_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--arms", help="comma-separated click rates of fixed arms, e.g. 0.04,0.05")
    src.add_argument("--runs", help="comma-separated run ids: recommender runs as arms")
    p.add_argument("--names", help="comma-separated arm names (default: from rates/runs)")
    p.add_argument("--drift", help="per-arm change of the rate per 10,000 decisions")
    p.add_argument("--k", type=arg_int(bound="k", upper_only=True), default=10, help="list length for recommender arms")
    p.add_argument("--policy", default="thompson",
                   choices=["thompson", "ucb1", "epsilon_greedy", "uniform"])
    p.add_argument("--epsilon", type=arg_float(0.0, 1.0), default=0.1, help="for epsilon_greedy")
    p.add_argument("--batch", type=arg_int(bound="batch", upper_only=True), default=100, help="decisions per batch")
    p.add_argument("--seed", type=arg_int(bound="seed"), default=0)
    p.add_argument("--prior", default="1,1", help="Beta prior alpha,beta (default 1,1)")
    p.add_argument("--delay", type=arg_int(bound="delay"), default=0, help="batches before a reward arrives")
    p.add_argument("--name", default=None, type=arg_name("--name"))
    add_db_arg(p)
    add_json_arg(p)


def _experiment_kwargs(args) -> dict:
    prior = _prior(args.prior)
    kw = dict(policy=args.policy, batch_size=args.batch, seed=args.seed,
              prior_alpha=prior[0], prior_beta=prior[1], delay=args.delay,
              policy_params={"epsilon": args.epsilon} if args.policy == "epsilon_greedy" else {},
              arm_names=[check_name(n.strip(), "Each name of --names") for n in args.names.split(",")]
              if args.names else None)
    if args.arms is not None:  # an empty --arms '' must not fall through to --runs
        kw["rates"] = check_floats(args.arms, "--arms", None, None,
                                   max_count=BOUNDS["arms"][1])
        kw["drift"] = _floats(args.drift, "--drift") if args.drift else None
    else:
        kw["run_ids"] = _ints(args.runs, "--runs")
        if args.k < 1:
            raise DataError(f"--k must be at least 1, not {args.k}.")
        kw["k"] = args.k
    return kw


def _cmd_simulate(args) -> int:
    store = get_store(args)
    if args.steps < 1:
        raise DataError(f"--steps must be at least 1, not {args.steps}.")
    kw = _experiment_kwargs(args)
    name = args.name or f"simulation {args.policy} seed {args.seed}"
    exp_id, res = ex.simulate_and_store(store, name=name, steps=args.steps, **kw)
    out = {"experiment_id": exp_id, "pulls": [int(x) for x in res.pulls],
           "rewards": [float(x) for x in res.rewards], "regret": float(res.regret),
           "prob_best": [float(x) for x in res.prob_best]}
    if args.json:
        print_json(out)
    else:
        print(f"experiment {exp_id}: {args.steps} decisions, {args.policy}, "
              f"expected regret {res.regret:.2f}")
        print(f"{'arm':<24}{'pulls':>8}{'rewards':>9}{'P(best)':>9}")
        for arm, n, r, p in zip(res.arms, out["pulls"], out["rewards"], out["prob_best"]):
            print(f"{arm:<24}{n:>8}{r:>9.0f}{p:>9.3f}")
    return 0


def _cmd_create(args) -> int:
    store = get_store(args)
    max_steps = args.max_steps
    if max_steps is not None and max_steps < 1:
        raise DataError(f"--max-steps must be at least 1, not {max_steps}.")
    exp_id = ex.new_experiment(store, name=args.name or "experiment", max_steps=max_steps,
                            **_experiment_kwargs(args))
    if args.start:
        ex.start(store, exp_id)
    print_json({"experiment_id": exp_id}) if args.json else print(f"experiment {exp_id} created")
    return 0


def _cmd_status(args, action: str) -> int:
    store = get_store(args)
    if action == "start":
        ex.start(store, args.experiment)
    elif action == "pause":
        ex.pause(store, args.experiment)
    else:
        n = ex.step(store, args.experiment, args.batches)
        print(f"experiment {args.experiment}: {n} decisions")
        return 0
    print(f"experiment {args.experiment}: {action}")
    return 0


def _cmd_list(args) -> int:
    df = sql.list_experiments(get_store(args))
    if args.json:
        print_json(df.to_dict(orient="records"))
    else:
        print(df.to_string(index=False) if len(df) else "no experiments")
    return 0


def _cmd_show(args) -> int:
    rep = ex.report(get_store(args), args.experiment)
    cols = ["arm", "pulls", "n_obs", "successes", "mean", "lo", "hi", "prob_best", "expected_loss"]
    if args.json:
        print_json({"experiment": rep.experiment, "arms": rep.summary[cols].to_dict("records"),
                    "stop": rep.stopping.stop, "stopping": rep.stopping.reasons,
                    "sample_ratio": rep.sample_ratio.message,
                    "simpson": [a.message for a in rep.simpson]})
        return 0
    e = rep.experiment
    print(f"experiment {e['experiment_id']} {e['name']!r}: {e['status']}, {e['policy']}, "
          f"{e['n_steps']} decisions")
    print(rep.summary[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    for line in rep.stopping.reasons + [rep.sample_ratio.message] + [a.message for a in rep.simpson]:
        print("-", line)
    return 0


def _cmd_ope(args) -> int:
    res = evaluate_file(args.logs, args.target, args.reward_model)
    keys = ["ipw", "snipw", "dm", "dr", "ess", "max_weight", "n"]
    if args.json:
        print_json({k: getattr(res, k) for k in keys})
    else:
        print(f"click rate per impression of the {res.target} policy, from {args.logs} "
              f"({res.n:,} impressions; logged policy's own rate {res.logged_rate:.5f})")
        for k in ["ipw", "snipw", "dm", "dr"]:
            print(f"  {k:<6}{getattr(res, k):.5f}")
        print(f"  IPW standard error {res.ipw_se:.5f}; effective sample size {res.ess:,.0f}; "
              f"largest weight {res.max_weight:.1f}; reward model {res.reward_model}")
    return 0


def _prior(text: str) -> list[float]:
    return check_floats(text, "--prior (alpha,beta)", None, BOUNDS["prior"][1], count=2)


def _cmd_import(args) -> int:
    store = get_store(args)
    prior = _prior(args.prior)
    progress = TqdmProgress(disable=not sys.stderr.isatty())
    try:
        res = import_log(
            store, args.file, name=args.name, policy=args.policy, prior_alpha=prior[0],
            prior_beta=prior[1], progress=progress, time_col=args.time_col,
            arm_col=args.arm_col, reward_col=args.reward_col,
            propensity_col=args.propensity_col or DEFAULT_COLUMNS["propensity"],
            require_propensity=args.propensity_col is not None, id_col=args.id_col,
            intended_col=args.intended_col, batch_col=args.batch_col,
            batch_size=args.batch_size)
    finally:
        progress.close()
    if args.json:
        print_json(res.as_json())
        return 0
    print(f"experiment {res.experiment_id}: {res.n:,} decisions on {len(res.arms)} arms in "
          f"{res.n_batches:,} batches, imported from {args.file}")
    for note in res.notes:
        print(f"- {note}")
    order = sorted(range(len(res.arms)), key=lambda i: -res.prob_best[i])
    shown = order[:20]
    print(f"{'arm':<24}{'pulls':>8}{'rewards':>9}{'P(best)':>9}")
    for i in shown:
        print(f"{res.arms[i]:<24}{res.pulls[i]:>8}{res.rewards[i]:>9.0f}{res.prob_best[i]:>9.3f}")
    if len(order) > len(shown):
        print(f"... and {len(order) - len(shown)} more arms (`recscope bandit show "
              f"{res.experiment_id}` lists them all)")
    return 0


def _cmd_rewards(args) -> int:
    res = add_rewards(get_store(args), args.experiment, args.file, id_col=args.id_col,
                      reward_col=args.reward_col)
    out = {"experiment_id": res.experiment_id, "rows": res.n, "joined": res.joined,
           "unchanged": res.unchanged, "pending": res.pending}
    if args.json:
        print_json(out)
    else:
        print(f"experiment {res.experiment_id}: {res.joined:,} rewards joined, "
              f"{res.unchanged:,} already there, {res.pending:,} decisions still waiting")
    return 0


def register(subparsers) -> None:
    bandit = subparsers.add_parser("bandit", help="multi-armed bandit experiments")
    sub = bandit.add_subparsers(dest="bandit_command", metavar="ACTION",
                                parser_class=type(bandit))
    sub.required = True

    p = sub.add_parser("simulate", help="simulate an experiment in one go and store it")
    _add_experiment_args(p)
    p.add_argument("--steps", type=arg_int(bound="steps", upper_only=True), default=10_000, help="decisions in all")
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser("create", help="create an experiment to run step by step")
    _add_experiment_args(p)
    p.add_argument("--max-steps", type=arg_int(bound="max_steps", upper_only=True), default=None)
    p.add_argument("--start", action="store_true", help="start it at once")
    p.set_defaults(func=_cmd_create)

    for action in ("start", "pause", "step"):
        p = sub.add_parser(action, help=f"{action} an experiment")
        p.add_argument("experiment", type=arg_int(bound="id"))
        if action == "step":
            p.add_argument("--batches", type=arg_int(bound="batches", upper_only=True), default=1)
        add_db_arg(p)
        p.set_defaults(func=lambda a, _act=action: _cmd_status(a, _act))

    p = sub.add_parser(
        "run", help="keep a running experiment advancing from this terminal",
        description="Advance a running experiment every --every seconds until it is paused "
        "(from the page or `recscope bandit pause`), finishes, or --for seconds pass; Ctrl-C "
        "stops it. The Bandits page then watches it move with or without being open. Open "
        "pages and runners share the pace: an experiment stepped less than --every seconds "
        "ago by anyone is not stepped again.")
    p.add_argument("experiment", type=arg_int(bound="id"))
    p.add_argument("--every", type=arg_float(bound="every", upper_only=True), default=3.0, metavar="SECONDS",
                   help="seconds between steps (default 3)")
    p.add_argument("--batches", type=arg_int(bound="batches", upper_only=True), default=1, help="batches per step (default 1)")
    p.add_argument("--for", dest="duration", type=arg_float(bound="duration"), default=None, metavar="SECONDS",
                   help="stop after this many seconds (default: until paused or finished)")
    p.add_argument("--start", action="store_true", help="start the experiment if it is not running")
    add_db_arg(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("list", help="list experiments")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("show", help="posterior summaries and checks of an experiment")
    p.add_argument("experiment", type=arg_int(bound="id"))
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser(
        "import", help="import a production log of decisions as an experiment to audit",
        description="Import a real experiment from a log with one row per decision (CSV, or "
        "Parquet by the .parquet/.pq suffix): its time, the arm served, the policy's "
        "probability of choosing that arm (propensity) and the reward, 0 or 1, or an empty "
        "cell while it has not arrived. The decisions are grouped into batches and replayed: "
        "after each batch the posteriors, P(best), intended shares and checks are those a "
        "simulated experiment shows. The experiment is stored with status 'imported'; it "
        "cannot be started or stepped.")
    p.add_argument("file", metavar="FILE", help="CSV or Parquet log of decisions")
    p.add_argument("--name", required=True, type=arg_name("--name"), help="name of the experiment")
    p.add_argument("--policy", default="thompson",
                   choices=["thompson", "ucb1", "epsilon_greedy", "uniform"],
                   help="the policy that made the decisions (a label; default thompson)")
    batching = p.add_mutually_exclusive_group()
    batching.add_argument("--batch-col", metavar="C", default=None,
                          help="column with each decision's batch (policy version)")
    batching.add_argument("--batch-size", metavar="N", type=arg_int(bound="batch", upper_only=True), default=None,
                          help="fixed-size batches of N decisions in time order (default: "
                          "the log cut into 100 equal batches)")
    p.add_argument("--time-col", metavar="C", default="timestamp",
                   help="decision time: ISO date, unix seconds or ms (default: timestamp)")
    p.add_argument("--arm-col", metavar="C", default="arm", help="arm served (default: arm)")
    p.add_argument("--reward-col", metavar="C", default="reward",
                   help="reward 0/1, empty while not arrived (default: reward)")
    p.add_argument("--propensity-col", metavar="C", default=None,
                   help="the policy's probability of choosing the arm, in (0, 1] (default: "
                   "propensity, used when the file has it; without propensities the "
                   "sample-ratio check needs --intended-col)")
    p.add_argument("--intended-col", metavar="C", default=None,
                   help="arm the policy chose when the arm served may differ (fallbacks, "
                   "caches): the sample-ratio check compares what was served with it")
    p.add_argument("--id-col", metavar="C", default=None,
                   help="decision id, to join late rewards by (default: the data row number "
                   "in FILE, 1 = first row after the header)")
    p.add_argument("--prior", default="1,1", help="Beta prior alpha,beta (default 1,1)")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser(
        "rewards", help="join rewards that arrived later to an experiment's decisions",
        description="Join late rewards (0 or 1 per row) to their decisions by decision id: "
        "the --id-col values given at import, or the data row numbers of the imported file "
        "when none was given (a simulated experiment's event ids). Unknown or repeated ids, "
        "and a decision that already has another reward, are errors and nothing is written.")
    p.add_argument("experiment", type=arg_int(bound="id"), metavar="EXPERIMENT")
    p.add_argument("file", metavar="FILE", help="CSV or Parquet with a decision id and a reward")
    p.add_argument("--id-col", metavar="C", default="decision_id",
                   help="decision id column (default: decision_id)")
    p.add_argument("--reward-col", metavar="C", default="reward",
                   help="reward column, 0 or 1 (default: reward)")
    add_db_arg(p)
    add_json_arg(p)
    p.set_defaults(func=_cmd_rewards)

    p = sub.add_parser("ope", help="off-policy estimate of a policy's click rate from logs")
    p.add_argument("--logs", required=True, help="CSV in the Open Bandit Dataset format")
    p.add_argument("--target", default="uniform", help="policy to evaluate: uniform")
    p.add_argument("--reward-model", default="means", choices=["means", "logistic"],
                   help="reward model of DM and DR (default: smoothed per-(item, position) means)")
    add_json_arg(p)
    p.set_defaults(func=_cmd_ope)


def _cmd_run(args) -> int:
    if args.every <= 0:
        raise DataError(f"--every must be above 0 seconds, not {args.every}.")
    if args.batches < 1:
        raise DataError(f"--batches must be at least 1, not {args.batches}.")
    store = get_store(args)
    exp = sql.get_experiment(store, args.experiment)
    if exp["status"] != "running":
        if not args.start:
            raise DataError(f"Experiment {args.experiment} is {exp['status']}; start it (add "
                            f"--start, or `recscope bandit start {args.experiment}`) to run it.")
        ex.start(store, args.experiment)
    began = time.monotonic()
    print(f"running experiment {args.experiment} every {args.every:g} s; Ctrl-C stops",
          file=sys.stderr)
    try:
        while True:
            n = ex.step_if_due(store, args.experiment, args.batches, args.every * 0.8)
            exp = sql.get_experiment(store, args.experiment)
            if n:
                print(f"{int(exp['n_steps']):,} decisions, {int(exp['n_batches']):,} batches",
                      file=sys.stderr)
            if exp["status"] != "running":
                print(f"experiment {args.experiment} is {exp['status']}; stopping",
                      file=sys.stderr)
                return 0
            if args.duration is not None and time.monotonic() - began >= args.duration:
                return 0
            time.sleep(args.every)
    except KeyboardInterrupt:
        print("stopped; the experiment stays running (pause it to stop every driver)",
              file=sys.stderr)
        return 0
