"""Moved to ``engine.report.runs_charts`` (the HTML reports draw the same figures; the engine
never imports viewer/). This name stays an alias of that module, private names included."""

import sys

from engine.report import runs_charts as _moved

sys.modules[__name__] = _moved
