"""Recommenders: the protocol, the algorithms, a registry of names and defaults, and
batch top-K scoring.

``engine.recommend.topk`` is the function (see ``engine/recommend/topk.py``).
"""

from engine.recommend.topk import topk  # noqa: F401
