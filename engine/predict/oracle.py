"""The true probability of each sample's label, from a synthetic dataset's per-view
funnel probabilities (user_id, item_id, time, p_apply, p_hire): the yardstick behind
``oracle_roc_auc`` and ``oracle_ece``.

Definition: the oracle of a sample is the probability of its label given everything
true at the sample's time (the user's and the posting's hidden traits, which no model
sees), and nothing later. That makes it the best any model could do with what is
knowable then (and more: the hidden traits themselves), so a model can approach it but
not beat it except by chance.

The demo generator makes it so: a person decides about a posting once, at the first
view of it (the sample's time); repeat views happen but never lead to an application,
so their ``p_apply`` is 0. (Before generator version 2 every view could lead to one,
and the pair's probability depended on how often the person came back later, which
nobody knows at the first view.) A sample is a (user, item) pair; its label says
whether the pair has the target at all, so the pair's probability combines its views
(the view-level draws are independent), which with one decision is that decision's:
- apply given view: 1 - prod over the pair's views of (1 - p_apply);
- hire given apply: p_hire (the same for every view of the pair);
- hire given view: P(apply) as above times p_hire.
Other targets have no oracle (None). A few outcomes fall after the data's end (a late
application); the test period leaves out samples too close to the end for that.
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
