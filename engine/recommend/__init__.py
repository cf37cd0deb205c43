"""Recommenders: the protocol, the algorithms, a registry of names and defaults, and
batch top-K scoring.

``engine.recommend.topk`` is the function (the module is ``engine/recommend/topk.py``).
"""

from engine.recommend.topk import topk, topk_dense  # noqa: F401
from engine.recommend.matrix import build_matrix  # noqa: F401
from engine.recommend.base import BaseRecommender, Recommender  # noqa: F401
from engine.recommend.registry import (  # noqa: F401
    ALGORITHMS,
    DEFAULT_ALGOS,
    AlgoSpec,
    available,
    make,
)
