"""Pages are storyboards: the logic lives in viewer/, so no page file grows long."""

from tests.conftest import ROOT

MAX_PAGE_LINES = 150


def test_no_page_file_is_longer_than_150_lines():
    long = {p.name: n for p in sorted((ROOT / "pages").glob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_PAGE_LINES}
    assert not long, f"page files over {MAX_PAGE_LINES} lines: {long}"
    # the Bandits page was 239 lines before its sections moved to viewer/bandits_view.py
    assert len((ROOT / "pages" / "bandits.py").read_text(encoding="utf-8").splitlines()) < 80
