"""Regret of the bandit policies on three fixed arms, and the OBD off-policy check.

    .venv/bin/python bench/bandit_regret.py [--seeds 20]

Prints, averaged over seeds (batches of 100, arms 0.04, 0.05, 0.045), each policy's
expected regret at 10,000 and 80,000 decisions, the growth ratio (linear growth: 8) and
the ratio to uniform allocation (the named baseline, measured in the same run); then,
when ../shared/datasets/bandits/obd exists, the off-policy estimates of the uniform
policy from the Thompson-sampling log beside the random log's on-policy click rate; and
the two-arm check of Monte Carlo P(best) against the exact formula.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.bandits import ope, posterior  # noqa: E402
from engine.bandits.environments import FixedRates  # noqa: E402
from engine.bandits.simulation import Spec, simulate  # noqa: E402

RATES = [0.04, 0.05, 0.045]


def mean_regret(policy: str, steps: int, seeds: int) -> float:
    return float(np.mean([simulate(Spec(["a", "b", "c"], policy, batch_size=100, seed=s),
                                   FixedRates(RATES), steps, record=False).regret
                          for s in range(seeds)]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    print(f"regret over {args.seeds} seeds, arms {RATES}, batches of 100")
    uni10 = mean_regret("uniform", 10_000, args.seeds)
    print(f"{'policy':<16}{'R(10k)':>9}{'R(80k)':>9}{'R80/R10':>9}{'R10/uniform':>13}")
    for policy in ("uniform", "thompson", "epsilon_greedy", "ucb1"):
        r10 = uni10 if policy == "uniform" else mean_regret(policy, 10_000, args.seeds)
        r80 = mean_regret(policy, 80_000, args.seeds)
        print(f"{policy:<16}{r10:>9.2f}{r80:>9.2f}{r80 / r10:>9.2f}{r10 / uni10:>13.2f}")

    worst = 0.0
    for a_a, b_a, a_b, b_b in [(41, 961, 51, 951), (120, 2400, 131, 2390), (3, 5, 2, 7)]:
        exact = posterior.prob_b_beats_a_closed_form(a_a, b_a, a_b, b_b)
        quad = posterior.prob_b_beats_a_quad(a_a, b_a, a_b, b_b)
        mc = posterior.prob_best([a_a, a_b], [b_a, b_b], exact_two=False)[1]
        worst = max(worst, abs(mc - exact))
        print(f"two arms Beta({a_a},{b_a}) vs Beta({a_b},{b_b}): exact {exact:.5f}, "
              f"quad {quad:.5f}, Monte Carlo {mc:.5f}")
    print(f"largest |Monte Carlo - exact|: {worst:.4f}")

    root = Path(os.environ.get("RECSCOPE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
    obd = root / "datasets" / "bandits" / "obd"
    if not obd.exists():
        print(f"OBD sample not found at {obd}: off-policy check skipped")
        return 0
    truth = ope.read_logs(obd / "random" / "all.csv")["click"].mean()
    for model in ope.REWARD_MODELS:
        r = ope.evaluate(ope.read_logs(obd / "bts" / "all.csv"), "uniform", model)
        print(f"uniform policy from the bts log (reward model {model}): IPW {r.ipw:.5f} "
              f"(se {r.ipw_se:.5f}), SNIPW {r.snipw:.5f}, DM {r.dm:.5f}, DR {r.dr:.5f}; "
              f"ESS {r.ess:.0f} of {r.n}, largest weight {r.max_weight:.1f}")
    print(f"on-policy click rate of the random log: {truth:.5f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
