"""Evaluation: splits, per-user metrics, list overlap and paired significance tests."""

from engine.evaluate.overlap import RBO, jaccard, kendall_tau, rbo, user_overlap

__all__ = ["RBO", "jaccard", "kendall_tau", "rbo", "user_overlap"]
