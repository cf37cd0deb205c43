"""Entry point: `recscope serve` (or `streamlit run viewer/app.py` in a clone)."""

import sys
from pathlib import Path

# Allow `streamlit run viewer/app.py` from a checkout that was not pip-installed. In an
# installed package this folder is site-packages, already on the path.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from viewer import db, nav  # noqa: E402

st.set_page_config(page_title="recscope", page_icon=":material/insights:", layout="wide")
pg = st.navigation(nav.navigation_sections())
with db.busy_guard():   # a store locked past the read timeout: one line, then a retry
    pg.run()
