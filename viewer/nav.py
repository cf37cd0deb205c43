"""The page registry: one st.Page per page, used by app.py and for links/switch_page.

Pages live in the top-level ``pages/`` folder (beside ``viewer/``, not beside the entry
script: a ``pages/`` folder next to the entry script would switch Streamlit into its
older pages-directory mode, in which deep links skip the entry script). A wheel installs
that folder as ``viewer/_pages`` (see setup.py); ``pages_dir()`` finds either through
this module's file, never through the working directory.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st



def pages_dir() -> Path:
    """The page scripts: ``viewer/_pages`` of an installed package, else the clone's pages/."""
    here = Path(__file__).resolve().parent
    installed = here / "_pages"
    return installed if installed.is_dir() else here.parent / "pages"


PAGES_DIR = pages_dir()

#: (key, file, title, icon, url_path, section). The key is what other code links by.
#: Home is the default page: Streamlit serves it at "/" whatever its url_path.
PAGE_SPECS = [
    ("home", "home.py", "Home", ":material/home:", "home", "Overview"),
    ("runs", "runs.py", "Runs", ":material/leaderboard:", "runs", "Recommenders"),
    ("compare", "compare.py", "Compare", ":material/compare_arrows:", "compare", "Recommenders"),
    ("item", "item.py", "Item", ":material/work:", "item", "Recommenders"),
    ("predictions", "predictions.py", "Predictions", ":material/trending_up:", "predictions", "Recommenders"),
    ("reviews", "reviews.py", "Flagged reviews", ":material/rate_review:", "reviews", "Reviews"),
    ("bandits", "bandits.py", "Bandits", ":material/casino:", "bandits", "Experiments"),
]


def _pages() -> dict[str, st.Page]:
    pages = {}
    for key, file, title, icon, url_path, _section in PAGE_SPECS:
        path = PAGES_DIR / file
        if path.exists():
            pages[key] = st.Page(path, title=title, icon=icon, url_path=url_path,
                                 default=(key == "home"))
    return pages


def page(key: str) -> st.Page:
    """The st.Page registered under ``key`` (for st.page_link / st.switch_page)."""
    return _pages()[key]


def has_page(key: str) -> bool:
    # without building st.Page objects: cards link to pages once per row
    return any(k == key and (PAGES_DIR / file).exists() for k, file, *_ in PAGE_SPECS)


def navigation_sections() -> dict[str, list[st.Page]]:
    pages = _pages()
    sections: dict[str, list[st.Page]] = {}
    for key, _file, _title, _icon, _url, section in PAGE_SPECS:
        if key in pages:
            sections.setdefault(section, []).append(pages[key])
    return sections
