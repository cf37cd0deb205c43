"""Moved to ``engine.report.bandit_charts`` (the HTML reports draw the same figures; the engine
never imports viewer/). This name stays an alias of that module, private names included."""

import sys

from engine.report import bandit_charts as _moved

sys.modules[__name__] = _moved
