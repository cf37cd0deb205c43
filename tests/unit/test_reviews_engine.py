"""Unit tests of the review engine: normalisation offsets, rule signals, metrics,
explanations, label replay and threshold figures."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest

from engine.reviews.labels import current_labels, export_frame, training_targets
from engine.reviews.rules import rule_reasons, rule_signals
from engine.reviews.text import dedup_key, normalise
from engine.reviews.threshold import at_threshold, pr_curve

# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize("text", [
    "ｶﾞｲﾄﾞ  ＡＢＣ　です\n\nok", "  Héllo  Wörld ", "㍻は ﾊﾟﾝ", "e\u0301te", "ＴＥＬ　０９０－１２３４",
    "", "   ", "普通のレビューです。",
])
def test_normalise_matches_whole_string_nfkc_and_maps_back(text):
    norm, starts, ends = normalise(text)
    # independent reference: whole-string NFKC, lower-case, whitespace collapsed
    ref = " ".join(unicodedata.normalize("NFKC", text).lower().split())
    assert norm == ref
    assert len(starts) == len(ends) == len(norm)
    for i, ch in enumerate(norm):
        src = text[starts[i]:ends[i]]
        assert ch in " ".join(unicodedata.normalize("NFKC", src).lower().split()) or ch == " "


def test_normalise_offsets_of_full_width_text():
    text = "ＡＢ　ｃ"
    norm, starts, ends = normalise(text)
    assert norm == "ab c"
    assert starts.tolist() == [0, 1, 2, 3] and ends.tolist() == [1, 2, 3, 4]
    # half-width katakana with a voiced mark: two source characters -> one normalised
    norm, starts, ends = normalise("xｶﾞy")
    assert norm == "xがy".replace("が", "ガ")
    assert (starts[1], ends[1]) == (1, 3)


def test_dedup_key_ignores_width_case_and_punctuation():
    assert dedup_key("Great  company!!") == dedup_key("ｇｒｅａｔ ＣＯＭＰＡＮＹ")
    assert dedup_key("良い会社。") == dedup_key("良い会社")
    assert dedup_key("良い会社") != dedup_key("悪い会社")


# ---------------------------------------------------------------- rule signals


def _rules(texts):
    df = pd.DataFrame({"review_id": [f"r{i}" for i in range(len(texts))], "text": texts})
    sig = rule_signals(df)
    return sig, [[r["code"] for r in rule_reasons(row)] for _, row in sig.iterrows()]


def test_rule_signals_hand_computed():
    texts = [
        "あああああああいい",                                   # 7 of 9 are 'あ'
        "詳細は https://example.jp/x まで",
        "連絡先 090-1234-5678 です",
        "mail me at foo.bar@example.com now",
        "!!!???***",
        "研修がしっかりしていて働きやすい職場でした。",
        "研修がしっかりしていて働きやすい職場でした！",            # exact duplicate after folding
        "asdf qwer zxcv uiop hjkl",                             # Latin in a Japanese dataset
        "人間関係が良く、シフトの融通も利きます。",
        "シフトの融通も利くし、時給も悪くないと思います。",
        "ok",
    ]
    sig, codes = _rules(texts)
    assert sig.loc[0, "repeat_ratio"] == pytest.approx(7 / 9)
    assert sig.loc[0, "raw_longest_run"] == 7
    assert "repeated_chars" in codes[0]
    assert "url" in codes[1] and "url" not in codes[5]
    assert "phone" in codes[2] and "phone" not in codes[5]
    assert "email" in codes[3]
    assert sig.loc[4, "symbol_ratio"] == pytest.approx(1.0) and "symbols" in codes[4]
    assert sig.loc[5, "exact_dups"] == 1 and sig.loc[5, "dup_of"] == "r6"
    assert "exact_duplicate" in codes[6]
    assert sig.loc[0, "main_script"] == "japanese"
    assert sig.loc[7, "main_script_share"] == 0.0 and "script_mix" in codes[7]
    assert "script_mix" not in codes[8]
    assert "too_short" in codes[10]
    assert codes[8] == []  # an ordinary review has no reasons


def test_near_duplicate_found_and_similarity_is_cosine():
    base = "駅から近くて通いやすいです。店長がとても優しくて、困ったときはすぐに助けてくれました。"
    texts = [base, base.replace("優しくて", "やさしくて"), "全く違う内容の口コミで、夜勤の時給が高い点が魅力でした。"]
    sig, codes = _rules(texts)
    assert sig.loc[0, "near_dup_of"] == "r1" and sig.loc[1, "near_dup_of"] == "r0"
    assert sig.loc[0, "near_dup_sim"] > 0.8
    assert sig.loc[2, "near_dup_sim"] < 0.5
    # cross-check the similarity with an independent computation
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    from engine.reviews.text import normalise_text
    X = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), lowercase=False).fit_transform(
        [normalise_text(t) for t in texts])
    assert sig.loc[0, "near_dup_sim"] == pytest.approx(cosine_similarity(X[0], X[1])[0, 0])


# ---------------------------------------------------------------- metrics, threshold


def test_metrics_threshold_and_f1_against_sklearn():
    from sklearn.metrics import f1_score, roc_auc_score

    from engine.reviews.model import metrics
    y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 0, 0])
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.7, 0.65, 0.9, 0.05, 0.3])
    m = metrics(y, p)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    # the chosen threshold maximises F1 over all cut points
    best = max(f1_score(y, (p >= t).astype(int)) for t in np.unique(p))
    assert m["f1"] == pytest.approx(best)
    assert f1_score(y, (p >= m["threshold"]).astype(int)) == pytest.approx(m["f1"])
    # hand count: at 0.7 -> flagged .7 .8 .9: tp 3, fp 0, fn 1 -> F1 = 6/7 (at 0.35: tp 4,
    # fp 2 -> 8/10; at 0.65: tp 3, fp 1, fn 1 -> 6/8)
    assert m["threshold"] == 0.7 and m["f1"] == pytest.approx(6 / 7)
    assert (m["precision"], m["recall"]) == (pytest.approx(1.0), pytest.approx(0.75))


def test_at_threshold_hand_computed():
    y = np.array([1, 1, 0, 0, 1])
    s = np.array([0.9, 0.4, 0.6, 0.1, 0.7])
    r = at_threshold(y, s, np.array([0.9, 0.4, 0.6, 0.1, 0.7, 0.95, 0.2, np.nan]), 0.5)
    assert (r["tp"], r["fp"], r["fn"]) == (2, 1, 1)
    assert r["precision"] == pytest.approx(2 / 3) and r["recall"] == pytest.approx(2 / 3)
    assert r["n_flagged"] == 4
    curve = pr_curve(y, s)
    assert list(curve.columns) == ["threshold", "precision", "recall"]
    row = curve[curve["threshold"] == 0.6].iloc[0]
    assert row["precision"] == pytest.approx(2 / 3) and row["recall"] == pytest.approx(2 / 3)


# ---------------------------------------------------------------- labels


def _hist(rows):
    return pd.DataFrame([(i + 1, rid, lab, "ann", pd.Timestamp("2026-01-01") + pd.Timedelta(minutes=i))
                         for i, (rid, lab) in enumerate(rows)],
                        columns=["label_id", "review_id", "label", "reviewer", "labelled_at"])


def test_label_replay_with_undo():
    h = _hist([("a", "meaningless"), ("b", "fine"), ("a", "undo"), ("c", "skip"), ("b", "meaningless"),
               ("b", "undo"), ("d", "undo"), ("e", "fine"), ("e", "undo"), ("e", "undo")])
    cur = current_labels(h).set_index("review_id")["label"].to_dict()
    assert cur == {"b": "fine", "c": "skip"}


def test_training_targets_human_overrides_truth():
    reviews = pd.DataFrame({"review_id": ["a", "b", "c", "d", "e"],
                            "label": pd.array([1, 0, pd.NA, pd.NA, 1], dtype="Int64")})
    labels = current_labels(_hist([("a", "fine"), ("c", "meaningless"), ("d", "skip"), ("e", "skip")]))
    target, human = training_targets(reviews, labels)
    assert target.tolist() == [0, 0, 1, pd.NA, 1]
    assert human.tolist() == [True, False, True, False, False]


def test_export_frame_standing_and_history():
    h = _hist([("a", "meaningless"), ("a", "undo"), ("b", "fine")])
    reviews = pd.DataFrame({"review_id": ["a", "b"], "text": ["x", "y"], "label": [1, 0]})
    assert export_frame(h, reviews)[["review_id", "label", "text"]].values.tolist() == [["b", "fine", "y"]]
    assert len(export_frame(h, reviews, full_history=True)) == 3


def test_export_defuses_spreadsheet_formulas():
    import pandas as pd

    from engine.reviews.labels import defuse_formula, export_frame

    assert defuse_formula("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert defuse_formula("-1 点です") == "'-1 点です"
    assert defuse_formula("良い職場") == "良い職場"
    hist = pd.DataFrame({"label_id": [1], "dataset": ["d"], "review_id": ["r1"], "label": ["fine"],
                         "reviewer": ["ann"], "labelled_at": [pd.Timestamp("2026-01-01")],
                         "model_id": [None], "batch_id": [None]})
    reviews = pd.DataFrame({"review_id": ["r1"], "text": ["@everyone spam"], "label": [1]})
    assert export_frame(hist, reviews, full_history=True)["text"].tolist() == ["'@everyone spam"]
