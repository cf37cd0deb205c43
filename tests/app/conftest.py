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
