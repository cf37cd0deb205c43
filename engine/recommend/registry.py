"""Names, defaults and descriptions of the recommenders; ``make`` builds one.

The pipeline, the CLI and the viewer refer to algorithms by these names only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import DataError
from engine.recommend import algorithms as A
from engine.recommend.base import BaseRecommender


@dataclass(frozen=True)
class AlgoSpec:
    name: str
    cls: type
    defaults: dict = field(default_factory=dict)
    description: str = ""
    #: whether ``seed`` changes the result (recorded in params when it does)
    seeded: bool = False


ALGORITHMS: dict[str, AlgoSpec] = {s.name: s for s in [
    AlgoSpec("popularity", A.Popularity, {},
             "Most popular items in training (number of users), the same list for everyone."),
    AlgoSpec("random", A.RandomRecommender, {},
             "Uniformly random items, reproducible per seed: the floor any model must beat.",
             seeded=True),
    AlgoSpec("itemknn", A.ItemKNN, {"K": 100},
             "Item-item cosine nearest neighbours (implicit CosineRecommender)."),
    AlgoSpec("bm25", A.BM25KNN, {"K": 100, "K1": 1.2, "B": 0.75},
             "Item-item nearest neighbours on BM25-weighted interactions (implicit)."),
    AlgoSpec("als", A.ALS,
             {"factors": 64, "regularization": 0.05, "alpha": 1.0, "iterations": 15},
             "Implicit-feedback matrix factorisation by alternating least squares (implicit).",
             seeded=True),
    AlgoSpec("bpr", A.BPR,
             {"factors": 64, "learning_rate": 0.01, "regularization": 0.01, "iterations": 100},
             "Bayesian personalised ranking: pairwise matrix factorisation (implicit).",
             seeded=True),
    AlgoSpec("lmf", A.LMF,
             {"factors": 30, "learning_rate": 1.0, "regularization": 0.6, "iterations": 30,
              "neg_prop": 30},
             "Logistic matrix factorisation (implicit).", seeded=True),
    AlgoSpec("ease", A.EASE, {"regularization": 500.0, "max_items": 20000},
             "EASE^R: closed-form item-item linear autoencoder (dense; up to max_items items)."),
]}

#: The valid range of each numeric parameter: (low, high, low_inclusive). Checked by
#: ``make`` so that a bad value is one sentence, not a crash inside implicit (K=0
#: segfaults its neighbour code; factors=0 makes BLAS print errors).
_POSITIVE_INT = (1, None, True)
_POSITIVE = (0.0, None, False)
_NON_NEGATIVE = (0.0, None, True)
RANGES: dict[str, tuple] = {
    "K": _POSITIVE_INT, "factors": _POSITIVE_INT, "iterations": _POSITIVE_INT,
    "neg_prop": _POSITIVE_INT, "max_items": _POSITIVE_INT,
    "K1": _NON_NEGATIVE, "B": (0.0, 1.0, True), "regularization": _NON_NEGATIVE,
    "alpha": _POSITIVE, "learning_rate": _POSITIVE,
}

#: Trains in well under a minute on a 5,000 users x 2,000 items demo.
DEFAULT_ALGOS = ["popularity", "itemknn", "als", "bpr", "ease"]


def available() -> list[str]:
    return list(ALGORITHMS)


def make(name: str, seed: int = 0, **params) -> BaseRecommender:
    """A fresh recommender ``name`` with its defaults overridden by ``params``.

    Its ``params`` attribute holds every effective parameter (plus ``seed`` for the
    algorithms whose results depend on it), ready to be stored as the run's JSON.
    """
    spec = ALGORITHMS.get(name)
    if spec is None:
        raise DataError(f"Unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}.")
    unknown = [p for p in params if p not in spec.defaults]
    if unknown:
        valid = ", ".join(spec.defaults) if spec.defaults else "none"
        raise DataError(f"Algorithm {name!r} has no parameter {unknown[0]!r}; its parameters "
                        f"are: {valid}.")
    merged = dict(spec.defaults)
    for key, value in params.items():
        merged[key] = _coerce(name, key, spec.defaults[key], value)
    model = spec.cls(seed=int(seed), **merged)
    if spec.seeded:
        model.params["seed"] = int(seed)
    return model


def _coerce(algo: str, key: str, default, value):
    """``value`` as the type of ``default``, within ``RANGES[key]``; else one sentence."""
    from engine.validate import check_param

    value = check_param(algo, key, default, value)  # no bools/NaN/inf; BOUNDS upper limits
    kind = "whole number" if isinstance(default, int) else "number"
    try:
        if isinstance(default, bool):
            return bool(value)
        number = float(value)
        if isinstance(default, int):
            if not number.is_integer():
                raise ValueError
            number = int(number)
    except (TypeError, ValueError):
        raise DataError(f"Parameter {key!r} of {algo!r} must be a {kind}; got {value!r}.") from None
    low, high, low_inclusive = RANGES.get(key, (None, None, True))
    too_low = low is not None and (number < low or (number == low and not low_inclusive))
    too_high = high is not None and number > high
    if too_low or too_high or number != number:  # NaN fails every comparison
        bound = (f"at least {low}" if low_inclusive else f"above {low}") if low is not None else ""
        if high is not None:
            bound = f"between {low} and {high}"
        raise DataError(f"Parameter {key!r} of {algo!r} must be {bound}; got {value!r}.")
    return number
