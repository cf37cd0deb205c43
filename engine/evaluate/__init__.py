"""Evaluation: splits, per-user metrics, list overlap and paired significance tests."""

from engine.evaluate.metrics import (ACCURACY, BEYOND, METRICS, accuracy_metrics,
                                     beyond_accuracy, summarise)
from engine.evaluate.overlap import RBO, jaccard, kendall_tau, rbo, user_overlap

__all__ = ["ACCURACY", "BEYOND", "METRICS", "RBO", "accuracy_metrics", "beyond_accuracy",
           "jaccard", "kendall_tau", "rbo", "summarise", "user_overlap"]
