"""Names, defaults, descriptions and capabilities of the recommenders; ``make`` builds one.

The pipeline, the CLI and the viewer refer to algorithms by these names only, and ask
this registry (never the model object, never a second list) what an algorithm can do:
``AlgoSpec.similar_items``, ``explains``, ``recalculates_user`` and ``saves``. Adding an
algorithm is its class (``fit`` via ``_fit``; ``recommend`` is written once in
``BaseRecommender``, as in implicit) plus one ``AlgoSpec`` entry below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from engine.errors import DataError
from engine.recommend import algorithms as A
from engine.recommend.base import BaseRecommender
from engine.recommend.space import flin, flog, ilin, ilog
from engine.validate import check_param as check_number


@dataclass(frozen=True)
class AlgoSpec:
    """One algorithm, declared once.

    name: the run's ``algorithm`` column and the ``--algos`` name; cls: its class;
    defaults: every parameter with its default (``--param algo.key=value`` overrides);
    description: one sentence for the CLI and the viewer.
    seeded: ``seed`` changes the result (recorded in the run's params when it does).
    similar_items: the fitted model answers ``similar_items(item_idx, n)``; the pipeline
        keeps each training item's neighbours for the Item page.
    explains: ``engine.recommend.explain`` can explain a stored run's lists from what
        the run saved (``saves``); the Compare page asks for the model's own reasons.
    recalculates_user: the model scores a user from a history row it was not fitted on
        (a new or changed history) without refitting: score-from-history models
        (popularity, kNN, EASE) and ALS (its user factors are a least-squares solve).
    saves: names of model attributes stored with the run as artifacts (beside the
        training item ids, ``engine.store.runs.ITEM_IDS``), e.g. ``("item_factors",)``.
    space: the tuner's search space, parameter -> ``Dim`` (range, whole numbers, log
        scale); parameters not in it keep their defaults (``--space`` overrides).
    iterative: the model trains epoch by epoch and reports each one (the tuner scores
        it on the way and prunes poor trials early).
    """

    name: str
    cls: type
    defaults: dict = field(default_factory=dict)
    description: str = ""
    seeded: bool = False
    similar_items: bool = False
    explains: bool = False
    recalculates_user: bool = False
    saves: tuple[str, ...] = ()
    space: dict = field(default_factory=dict)
    iterative: bool = False


ALGORITHMS: dict[str, AlgoSpec] = {s.name: s for s in [
    AlgoSpec("popularity", A.Popularity, {},
             "Most popular items in training (number of users), the same list for everyone.",
             recalculates_user=True),
    AlgoSpec("random", A.RandomRecommender, {},
             "Uniformly random items, reproducible per seed: the floor any model must beat.",
             seeded=True, recalculates_user=True),
    AlgoSpec("itemknn", A.ItemKNN, {"K": 100},
             "Item-item cosine nearest neighbours (implicit CosineRecommender).",
             similar_items=True, recalculates_user=True, space={"K": ilog(5, 500)}),
    AlgoSpec("bm25", A.BM25KNN, {"K": 100, "K1": 1.2, "B": 0.75},
             "Item-item nearest neighbours on BM25-weighted interactions (implicit).",
             similar_items=True, recalculates_user=True,
             space={"K": ilog(5, 500), "K1": flin(0.1, 3.0), "B": flin(0.0, 1.0)}),
    AlgoSpec("als", A.ALS,
             {"factors": 64, "regularization": 0.05, "alpha": 1.0, "iterations": 15},
             "Implicit-feedback matrix factorisation by alternating least squares (implicit).",
             seeded=True, similar_items=True, explains=True, recalculates_user=True,
             saves=("item_factors",), iterative=True,
             space={"factors": ilog(8, 256), "regularization": flog(1e-4, 10.0),
                    "alpha": flog(0.1, 50.0), "iterations": ilin(5, 50)}),
    AlgoSpec("bpr", A.BPR,
             {"factors": 64, "learning_rate": 0.01, "regularization": 0.01, "iterations": 100},
             "Bayesian personalised ranking: pairwise matrix factorisation (implicit).",
             seeded=True, similar_items=True, iterative=True,
             space={"factors": ilog(8, 256), "learning_rate": flog(1e-3, 0.3),
                    "regularization": flog(1e-5, 0.1), "iterations": ilog(20, 400)}),
    AlgoSpec("lmf", A.LMF,
             {"factors": 30, "learning_rate": 1.0, "regularization": 0.6, "iterations": 30,
              "neg_prop": 30},
             "Logistic matrix factorisation (implicit).", seeded=True, similar_items=True,
             iterative=True,
             space={"factors": ilog(8, 128), "learning_rate": flog(0.05, 3.0),
                    "regularization": flog(0.01, 3.0), "iterations": ilin(10, 100),
                    "neg_prop": ilin(5, 50)}),
    AlgoSpec("ease", A.EASE, {"regularization": 500.0, "max_items": 20000},
             "EASE^R: closed-form item-item linear autoencoder (dense; up to max_items items).",
             similar_items=True, recalculates_user=True,
             space={"regularization": flog(1.0, 5000.0)}),
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


def spec(name: str) -> AlgoSpec:
    """The registry entry of ``name``; one sentence naming the known ones otherwise."""
    found = ALGORITHMS.get(name)
    if found is None:
        raise DataError(f"Unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}.")
    return found


def explains(name: str | None) -> bool:
    """Whether runs of algorithm ``name`` can explain their own lists (False for names
    the registry does not know, e.g. imported runs)."""
    found = ALGORITHMS.get(str(name))
    return bool(found and found.explains)


def similar_items(name: str | None) -> bool:
    """Whether algorithm ``name`` answers ``similar_items`` (False for unknown names)."""
    found = ALGORITHMS.get(str(name))
    return bool(found and found.similar_items)


def check_param(name: str, key: str, value):
    """``value`` coerced to parameter ``key`` of algorithm ``name``; one sentence when it
    is out of the parameter's valid range (as ``make`` checks it)."""
    return _coerce(name, key, spec(name).defaults[key], value)


def make(name: str, seed: int = 0, **params) -> BaseRecommender:
    """A fresh recommender ``name`` with its defaults overridden by ``params``.

    Its ``params`` attribute holds every effective parameter (plus ``seed`` for the
    algorithms whose results depend on it), ready to be stored as the run's JSON; its
    ``spec`` attribute is its registry entry (what it can do).
    """
    entry = spec(name)
    unknown = [p for p in params if p not in entry.defaults]
    if unknown:
        valid = ", ".join(entry.defaults) if entry.defaults else "none"
        raise DataError(f"Algorithm {name!r} has no parameter {unknown[0]!r}; its parameters "
                        f"are: {valid}.")
    merged = dict(entry.defaults)
    for key, value in params.items():
        merged[key] = _coerce(name, key, entry.defaults[key], value)
    model = entry.cls(seed=int(seed), **merged)
    model.spec = entry
    if entry.seeded:
        model.params["seed"] = int(seed)
    return model


def _coerce(algo: str, key: str, default, value):
    """``value`` as the type of ``default``, within ``RANGES[key]``; else one sentence."""
    value = check_number(algo, key, default, value)  # no bools/NaN/inf; BOUNDS upper limits
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


def non_default_params(algorithm: str, params) -> dict:
    """A run's parameters (a dict or its JSON text) that differ from ``algorithm``'s
    defaults, plus a seed other than 0: what tells two runs of one algorithm apart. For
    an algorithm the registry does not know (an imported run), every parameter."""
    if isinstance(params, str):
        try:
            params = json.loads(params or "{}")
        except ValueError:
            return {}
    if not isinstance(params, dict):
        return {}
    found = ALGORITHMS.get(str(algorithm))
    if found is None:
        return dict(params)
    return {k: v for k, v in params.items()
            if (k in found.defaults and v != found.defaults[k]) or (k == "seed" and v not in (0, None))}


def params_text(params) -> str:
    """'factors=64, iterations=15' from parameters (a dict or its JSON text); 'defaults'
    for an empty dict."""
    if isinstance(params, str):
        try:
            params = json.loads(params or "{}")
        except ValueError:
            return params
    if not isinstance(params, dict):
        return ""
    if not params:
        return "defaults"
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v}"
                     for k, v in params.items())


def changed_text(algorithm: str, params) -> str:
    """``params_text`` of ``non_default_params``: 'factors=8, iterations=2', or
    'defaults' when nothing differs. The Runs page and ``recscope runs`` both show it."""
    if isinstance(params, str):
        try:
            json.loads(params or "{}")
        except ValueError:
            return params
    return params_text(non_default_params(algorithm, params))
