"""The true probability of each sample's label, from a synthetic dataset's per-view
funnel probabilities (user_id, item_id, time, p_apply, p_hire).

A sample is a (user, item) pair; its label says whether the pair has the target at all,
so the pair's true probability combines all its views (the view-level draws are
independent):
- apply given view: 1 - prod over the pair's views of (1 - p_apply);
- hire given apply: p_hire (the same for every view of the pair);
- hire given view: P(apply) as above times p_hire.
Other targets have no oracle (None).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def pair_probability(oracle: pd.DataFrame, target: str, given: str,
                     horizon_days: float | None = None) -> pd.Series | None:
    """Series indexed by (user_id, item_id), or None when there is no truth to compare.
    With ``horizon_days``, only the views within that many days of the pair's first
    view count."""
    if oracle is None or oracle.empty or (target, given) not in {("apply", "view"), ("hire", "apply"),
                                                                  ("hire", "view")}:
        return None
    if horizon_days is not None and given == "view":
        t = pd.to_datetime(oracle["time"])
        first = t.groupby([oracle["user_id"], oracle["item_id"]]).transform("min")
        oracle = oracle[(t - first) <= pd.Timedelta(days=float(horizon_days))]
    o = oracle.assign(log_no=np.log1p(-oracle["p_apply"].clip(upper=1 - 1e-12)))
    g = o.groupby(["user_id", "item_id"], sort=False)
    p_apply = 1.0 - np.exp(g["log_no"].sum())
    p_hire = g["p_hire"].first()
    if target == "apply":
        return p_apply
    if given == "apply":
        return p_hire
    return p_apply * p_hire
