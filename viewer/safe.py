"""The escaping helpers of ``engine.report.safe``, for the viewer (one mechanism: see
that module's docstring)."""

from engine.report.safe import LIMIT, code, html, md, plain, plot, plot_labels  # noqa: F401
