"""Pure pieces of the flagged-reviews page: escaping, highlight spans, the queue filter."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd

from engine.reviews import queue as Q
from viewer.reviews_view import highlight_html, merge_spans, review_card_html


def _strip_tags(s: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", s))


def test_highlight_escapes_everything_and_marks_spans():
    text = "<script>alert(1)</script> buy now"
    expl = [{"ngram": "buy", "weight": 0.5, "spans": [[26, 29]]},
            {"ngram": "<scr", "weight": 0.2, "spans": [[0, 4]]}]
    out = highlight_html(text, expl)
    assert "<script" not in out and "&lt;scr" in out
    assert out.count("<mark") == 2
    assert _strip_tags(out) == text  # the text survives exactly
    assert re.search(r"<mark[^>]*>buy</mark>", out)


def test_highlight_with_hostile_ngram_tooltip():
    text = 'a"><img src=x onerror=alert(1)>'
    out = highlight_html(text, [{"ngram": '"><img', "weight": 1.0, "spans": [[1, 6]]}])
    assert "<img" not in out
    assert _strip_tags(out) == text


def test_merge_spans_unions_overlaps_and_clips():
    expl = [{"ngram": "abc", "weight": 0.3, "spans": [[0, 3], [10, 13]]},
            {"ngram": "bcd", "weight": 0.5, "spans": [[1, 4]]},
            {"ngram": "zz", "weight": 0.1, "spans": [[11, 40]]}]
    assert merge_spans(expl, 20) == [(0, 4, 0.5, "abc, bcd"), (10, 20, 0.3, "abc, zz")]


def test_card_escapes_reasons_company_and_text():
    row = {"review_id": "<b>1</b>", "text": "<img src=x onerror=alert(1)>", "score": 0.9, "company": "<i>Co</i>",
           "created_at": pd.Timestamp("2026-01-02"), "length": 28, "truth": 1, "human": None,
           "reviewer": None, "reasons": json.dumps([{"code": "x", "text": "<svg onload=alert(1)>"}]),
           "spans": json.dumps([])}
    out = review_card_html(row, 0.5)
    for bad in ("<img", "<svg", "<b>", "<i>"):
        assert bad not in out
    assert "flagged" in out


def _frame():
    scored = pd.DataFrame({
        "review_id": ["a", "b", "c", "d", "e"], "text": ["Spam link", "fine text", "SPAM again", "ok", "meh"],
        "truth": pd.array([1, 0, 1, 0, pd.NA], dtype="Int64"), "company": ["X", "Y", "X", "Y", None],
        "user_id": None, "created_at": pd.to_datetime(["2026-01-05", "2026-01-01", "2026-01-03", "2026-01-04", None]),
        "length": [9, 9, 10, 2, 3], "score": [0.9, 0.1, 0.75, 0.25, np.nan], "out_of_fold": True,
        "reasons": "[]", "spans": "[]"})
    labels = pd.DataFrame({"review_id": ["b", "c"], "label": ["fine", "skip"], "reviewer": ["ann", "bob"],
                           "labelled_at": pd.to_datetime(["2026-02-01", "2026-02-02"])})
    return Q.with_labels(scored, labels, 0.5)


def test_queue_orders_and_filters():
    df = _frame()
    assert df.set_index("review_id")["flagged"].to_dict() == {"a": True, "b": False, "c": True, "d": False, "e": False}
    ids = lambda f: Q.apply_filter(df, f)["review_id"].tolist()  # noqa: E731
    assert ids(Q.QueueFilter(status="any")) == ["a", "c", "d", "b", "e"]
    # uncertainty: |.75-.5| = |.25-.5| = .25 (tie -> id), then a (.4), b (.4)
    assert ids(Q.QueueFilter(status="any", order="uncertainty"))[:4] == ["c", "d", "a", "b"]
    assert ids(Q.QueueFilter(status="any", order="date")) == ["a", "d", "c", "b", "e"]
    assert ids(Q.QueueFilter()) == ["a", "d", "e"]  # unlabelled only
    assert ids(Q.QueueFilter(status="skip")) == ["c"]
    assert ids(Q.QueueFilter(status="labelled")) == ["c", "b"]
    assert ids(Q.QueueFilter(status="any", search="spam")) == ["a", "c"]
    assert ids(Q.QueueFilter(status="any", companies=("Y",))) == ["d", "b"]
    assert ids(Q.QueueFilter(status="any", score_min=0.2, score_max=0.8)) == ["c", "d", "e"]
    assert ids(Q.QueueFilter(status="any", length_min=5, length_max=9)) == ["a", "b"]


def test_queue_navigation():
    assert Q.following(["a", "b", "c"], "b") == "c"
    assert Q.following(["a", "b"], "b") is None
    assert Q.next_after(["a", "c"], current="b", wanted="c") == "c"
    assert Q.next_after(["a", "c"], current="c", wanted=None) == "c"
    assert Q.next_after(["a", "c"], current="b", wanted="z") == "a"
    assert Q.next_after([], "a", "b") is None


def test_threshold_labels_sources():
    df = _frame()
    y, s = Q.threshold_labels(df, "truth")
    assert y.tolist() == [1, 0, 1, 0] and s.tolist() == [0.9, 0.1, 0.75, 0.25]
    y, s = Q.threshold_labels(df, "human")  # 'skip' is not a label for the curve
    assert y.tolist() == [0] and s.tolist() == [0.1]
