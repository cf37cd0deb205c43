"""Checks that protect people from wrong conclusions about a bandit experiment.

- Per-period estimates beside the pooled ones, with an alarm when a pooled comparison
  of two arms points the other way from the comparison within periods. A bandit moves
  traffic over time; when rates also change over time, the pooled rates mix periods in
  different proportions per arm and can reverse the truth (Simpson's paradox).
- Sample-ratio check: do the decisions per arm match what the policy intended?
  (chi-square goodness of fit, scipy.stats.chisquare).
- Stopping rule: an arm's probability of being best above a threshold and its expected
  loss below a threshold, once a minimum sample of rewards has arrived.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats


def period_estimates(counts: pd.DataFrame, n_periods: int = 4) -> pd.DataFrame:
    """Split the batches into ``n_periods`` contiguous periods of (nearly) equal numbers
    of batches and estimate each arm's rate per period.

    ``counts``: one row per (batch, arm) with batch, arm_index, arm, n_obs, successes.
    Returns period, first_batch, last_batch, arm_index, arm, n_obs, successes, rate.
    Rewards are counted by the batch of their decision, whenever they arrived.
    """
    cols = ["period", "first_batch", "last_batch", "arm_index", "arm", "n_obs", "successes", "rate"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    batches = np.sort(counts["batch"].unique())
    n_periods = max(1, min(int(n_periods), len(batches)))
    edges = np.array_split(batches, n_periods)
    period_of = {int(b): p for p, chunk in enumerate(edges) for b in chunk}
    df = counts.assign(period=counts["batch"].map(period_of))
    g = (df.groupby(["period", "arm_index"], as_index=False)
           .agg(arm=("arm", "first"), n_obs=("n_obs", "sum"), successes=("successes", "sum")))
    g["first_batch"] = g["period"].map({p: int(c[0]) for p, c in enumerate(edges)})
    g["last_batch"] = g["period"].map({p: int(c[-1]) for p, c in enumerate(edges)})
    g["rate"] = np.where(g["n_obs"] > 0, g["successes"] / g["n_obs"].clip(lower=1), np.nan)
    return g[cols]


def pooled_estimates(counts: pd.DataFrame) -> pd.DataFrame:
    g = (counts.groupby("arm_index", as_index=False)
               .agg(arm=("arm", "first"), n_obs=("n_obs", "sum"), successes=("successes", "sum")))
    g["rate"] = np.where(g["n_obs"] > 0, g["successes"] / g["n_obs"].clip(lower=1), np.nan)
    return g


@dataclass
class SimpsonAlarm:
    arm_a: str
    arm_b: str
    pooled_diff: float        # rate(a) - rate(b), pooled over all periods
    within_diff: float        # the same difference, averaged within periods
    message: str


def simpson_alarms(periods: pd.DataFrame, min_obs: int = 30, z: float = 1.96) -> list[SimpsonAlarm]:
    """Pairs of arms whose pooled difference is clear (|difference| above ``z`` standard
    errors, so a person would act on it) and yet has the opposite sign of the
    within-period difference. The within-period difference is the Mantel-Haenszel risk
    difference: per-period differences weighted by n_a n_b / (n_a + n_b). Periods where
    an arm has fewer than ``min_obs`` rewards are left out of both comparisons' weights.

    Requiring a clear pooled difference keeps noise from raising the alarm: two arms
    with nearly equal rates flip the sign of both differences at random."""
    alarms: list[SimpsonAlarm] = []
    if periods.empty:
        return alarms
    arms = periods.drop_duplicates("arm_index").sort_values("arm_index")
    wide_n = periods.pivot(index="period", columns="arm_index", values="n_obs").fillna(0)
    wide_s = periods.pivot(index="period", columns="arm_index", values="successes").fillna(0)
    names = dict(zip(arms["arm_index"], arms["arm"]))
    idx = list(names)
    for i_pos, i in enumerate(idx):
        for j in idx[i_pos + 1:]:
            n_i, n_j = wide_n[i].to_numpy(float), wide_n[j].to_numpy(float)
            s_i, s_j = wide_s[i].to_numpy(float), wide_s[j].to_numpy(float)
            if n_i.sum() < min_obs or n_j.sum() < min_obs:
                continue
            pooled = s_i.sum() / n_i.sum() - s_j.sum() / n_j.sum()
            ok = (n_i >= min_obs) & (n_j >= min_obs)
            if ok.sum() < 2:
                continue  # one usable period: nothing to compare with
            w = n_i[ok] * n_j[ok] / (n_i[ok] + n_j[ok])
            within = float(np.sum(w * (s_i[ok] / n_i[ok] - s_j[ok] / n_j[ok])) / w.sum())
            p_i, p_j = s_i.sum() / n_i.sum(), s_j.sum() / n_j.sum()
            se = np.sqrt(p_i * (1 - p_i) / n_i.sum() + p_j * (1 - p_j) / n_j.sum())
            clear = se > 0 and abs(pooled) >= z * se
            if clear and pooled * within < 0:
                a, b = names[i], names[j]
                lead, lag = (a, b) if pooled > 0 else (b, a)
                msg = (f"Pooled over the whole run, {lead} looks better than {lag} "
                       f"(by {abs(pooled):.4f}), but within periods {lag} beats {lead} "
                       f"(by {abs(within):.4f} on average): traffic moved between arms while "
                       f"rates changed over time (Simpson's paradox). Trust the per-period "
                       f"comparison.")
                alarms.append(SimpsonAlarm(a, b, float(pooled), within, msg))
    return alarms


@dataclass
class SampleRatio:
    arms: list[str]
    observed: np.ndarray
    expected: np.ndarray
    chi2: float
    p_value: float
    alarm: bool
    message: str
    warning: bool = False     # the check could not be trusted; the message says why


def sample_ratio_check(intended: pd.DataFrame, alpha: float = 0.001) -> SampleRatio:
    """Compare decisions per arm with what the policy intended.

    ``intended``: per (batch, arm) the policy's intended share of a decision
    (intended_share) and the decisions made (batch_pulls). The expected count of an arm
    is the sum over batches of intended share x batch size.
    """
    if intended.empty:
        return SampleRatio([], np.zeros(0), np.zeros(0), 0.0, 1.0, False, "No decisions yet.")
    if intended["intended_share"].isna().all():  # an imported log without propensities
        return SampleRatio([], np.zeros(0), np.zeros(0), float("nan"), float("nan"), False,
                           "Not checked: the log has no propensities or intended arms, so "
                           "what the policy intended is unknown.")
    sizes = intended.groupby("batch")["batch_pulls"].transform("sum")
    df = intended.assign(expected=intended["intended_share"] * sizes)
    g = (df.groupby("arm_index").agg(arm=("arm", "first"), observed=("batch_pulls", "sum"),
                                     expected=("expected", "sum")).sort_index())
    obs, exp = g["observed"].to_numpy(float), g["expected"].to_numpy(float)
    arms = [str(a) for a in g["arm"]]
    impossible = (exp <= 1e-9) & (obs > 0)
    if impossible.any():
        arm = arms[int(np.flatnonzero(impossible)[0])]
        return SampleRatio(arms, obs, exp, float("inf"), 0.0, True,
                           f"Arm {arm} received traffic the policy never intended for it.")
    keep = exp > 1e-9
    if keep.sum() < 2 or np.allclose(obs[keep], exp[keep]):
        return SampleRatio(arms, obs, exp, 0.0, 1.0, False,
                           "Decisions per arm match the intended allocation.")
    # chisquare needs the two totals equal; rescale the expected counts exactly.
    e = exp[keep] * obs[keep].sum() / exp[keep].sum()
    chi2, p = stats.chisquare(obs[keep], e)
    alarm = bool(p < alpha)
    msg = (f"Sample-ratio mismatch: decisions per arm differ from the intended allocation "
           f"(chi-square {chi2:.1f}, p = {p:.2g}); check assignment and logging before "
           f"reading any result." if alarm else
           f"Decisions per arm are consistent with the intended allocation (p = {p:.2g}).")
    return SampleRatio(arms, obs, exp, float(chi2), float(p), alarm, msg)


#: Share of (batch, arm) cells whose propensities differ above which an imported log's
#: sample-ratio check is not trusted (see ``propensities_vary``).
VARYING_PROPENSITY_SHARE = 0.05


def propensities_vary(sr: SampleRatio, share_varying: float) -> SampleRatio:
    """The sample-ratio check of a log whose propensities vary within batches.

    The check compares decisions with one intended share per (batch, arm): right when the
    policy is fixed within a batch. When the logged propensities of one arm differ from
    decision to decision in the same batch (a contextual policy, positions, a policy
    updated mid-batch) the shares are estimates from the very decisions being tested, and
    a correct log fails the chi-square test; so no alarm is raised, and the message says
    what the plain test would have said."""
    plain = (f"chi-square {sr.chi2:.1f}, p = {sr.p_value:.2g}" if np.isfinite(sr.chi2)
             else "an arm with traffic but no intended share")
    msg = (f"Sample-ratio check not made: the propensities of an arm vary within a batch in "
           f"{share_varying:.0%} of (batch, arm) pairs (a contextual policy, positions, or a "
           f"policy updated mid-batch), so there is no single intended share per batch to "
           f"test against; the plain test would report {plain}. Import with --batch-col set "
           f"to the policy version if the policy was fixed within each.")
    return SampleRatio(sr.arms, sr.observed, sr.expected, sr.chi2, sr.p_value, False, msg,
                       warning=True)


@dataclass
class StoppingRule:
    prob_threshold: float = 0.95
    loss_threshold: float = 0.001
    min_samples: int = 1000


@dataclass
class StoppingDecision:
    stop: bool
    winner: str | None
    reasons: list[str] = field(default_factory=list)


def stopping_decision(summary: pd.DataFrame, n_obs_total: int,
                      rule: StoppingRule = StoppingRule()) -> StoppingDecision:
    """``summary``: the posterior summary (arm, prob_best, expected_loss) per arm."""
    if summary.empty:
        return StoppingDecision(False, None, ["No data yet."])
    top = summary.sort_values("prob_best", ascending=False).iloc[0]
    reasons, ok = [], True
    if n_obs_total < rule.min_samples:
        ok = False
        reasons.append(f"Only {n_obs_total:,} rewards have arrived; the rule needs at "
                       f"least {rule.min_samples:,}.")
    if top["prob_best"] < rule.prob_threshold:
        ok = False
        reasons.append(f"The leading arm {top['arm']} is best with probability "
                       f"{top['prob_best']:.3f}, below {rule.prob_threshold:.2f}.")
    if top["expected_loss"] > rule.loss_threshold:
        ok = False
        reasons.append(f"Choosing {top['arm']} would still cost {top['expected_loss']:.5f} "
                       f"in expected rate, above {rule.loss_threshold:g}.")
    if ok:
        reasons.append(f"{top['arm']} is best with probability {top['prob_best']:.3f} and "
                       f"an expected loss of {top['expected_loss']:.5f}: the experiment "
                       f"can stop.")
    return StoppingDecision(ok, str(top["arm"]) if ok else None, reasons)
