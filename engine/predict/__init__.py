"""Funnel prediction: for a user and an item, the chance of a target event (an
application, a hire, a rating condition such as ``rating>=4``) given an earlier event
(a view, a rating). Pure computation: samples, leakage-free features, models, metrics.
No store imports (engine/services/predict.py reads and writes)."""
