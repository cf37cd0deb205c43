"""Evaluation: splits, per-user metrics, list overlap and paired significance tests."""

from engine.evaluate.metrics import (ACCURACY, BEYOND, HIT_METRICS, METRICS, REGISTRY, Metric,
                                     accuracy_metrics, beyond_accuracy, summarise)
from engine.evaluate.overlap import RBO, jaccard, kendall_tau, rbo, user_overlap
from engine.evaluate.splits import Split, make_split
from engine.evaluate.stats import compare_runs_table, holm, paired_test

__all__ = ["ACCURACY", "BEYOND", "HIT_METRICS", "METRICS", "Metric", "REGISTRY", "RBO", "accuracy_metrics", "beyond_accuracy",
           "compare_runs_table", "holm", "jaccard", "kendall_tau", "paired_test", "rbo",
           "Split", "make_split", "summarise", "user_overlap"]
