"""viewer/db.py: one store version per script run, and a busy store retried, not an
error box (AppTest)."""

from streamlit.testing.v1 import AppTest


def _pin_script():
    import os

    import streamlit as st

    from viewer import db

    v1 = db.pinned_version()
    p = db.db_path()
    os.utime(p, ns=(v1[1] + 10**9, v1[1] + 10**9))   # another process writes meanwhile
    st.text(f"same={db.pinned_version() == v1} fresh={db.store_version() != v1}")
    db.invalidate()                                  # this render wrote: read anew
    st.text(f"after-write={db.pinned_version() != v1}")


def test_one_version_per_run_until_this_run_writes(tiny_db):
    at = AppTest.from_function(_pin_script, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.text] == ["same=True fresh=True", "after-write=True"]
    at.run()                                         # the next run pins the new version
    assert not at.exception
    assert at.text[0].value == "same=True fresh=True"


def _busy_script():
    import streamlit as st

    from engine.errors import StoreBusy
    from viewer import db

    db.RETRY_SECONDS = 0.01
    with db.busy_guard():
        n = st.session_state.get("tries", 0) + 1
        st.session_state["tries"] = n
        if n == 1:
            raise StoreBusy("The store stayed locked.")
        st.text(f"loaded after {n} tries")


def test_a_busy_store_is_retried_not_an_error_box(tiny_db):
    at = AppTest.from_function(_busy_script, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.text] == ["loaded after 2 tries"]


def _deleted_script():
    import streamlit as st

    from engine.errors import NotFound
    from viewer import db

    with db.busy_guard():
        raise NotFound("There is no bandit experiment with id 7.")
    st.text("unreachable")


def test_something_deleted_mid_render_is_one_line_not_an_error_box(tiny_db):
    at = AppTest.from_function(_deleted_script, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert "Deleted while this page was drawn" in at.info[0].value
    assert at.session_state["_db_deleted_retries_app"] == 2    # redrawn twice, then settled
