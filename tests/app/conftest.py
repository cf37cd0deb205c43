"""AppTest fixtures: Streamlit caches persist between tests in one process, so every
app test starts and ends with them cleared."""

import pytest


@pytest.fixture(autouse=True)
def _clear_caches():
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def run_page(page: str, **params):
    """Run ``pages/<page>`` once with these URL query parameters; fail on an exception."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    """The values of a list of AppTest elements (warnings, infos, ...) as one text."""
    return "\n".join(str(e.value) for e in elements)


def url_params(at) -> dict:
    return {k: at.query_params[k] for k in at.query_params}


@pytest.fixture
def tiny_db(tmp_path, monkeypatch):
    """The tiny runs store of tests/unit/test_runs_views.py, as the app's store."""
    from tests.fixtures.runs_store import build_tiny_store

    path = tmp_path / "tiny.duckdb"
    build_tiny_store(path)
    monkeypatch.setenv("RECSCOPE_DB", str(path))
    return path
