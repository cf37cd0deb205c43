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
        default = spec.defaults[key]
        try:
            merged[key] = type(default)(value) if not isinstance(default, bool) else bool(value)
        except (TypeError, ValueError):
            raise DataError(f"Parameter {key!r} of {name!r} must be a "
                            f"{type(default).__name__}; got {value!r}.") from None
    model = spec.cls(seed=int(seed), **merged)
    if spec.seeded:
        model.params["seed"] = int(seed)
    return model
