"""The synthetic job board: determinism, sizes, behaviour structure, reviews, store round trip."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from engine.data import DEFAULT_EVENT_WEIGHTS, REVIEW_COLUMNS
from engine.data.synthetic import CATEGORY_NAMES, END_DATE, PREFECTURES, SPAM_KINDS, make_job_board
from engine.errors import DataError
from engine.store import Store
from engine.store.datasets import list_datasets, load_dataset, save_dataset

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
WINDOW_START = pd.Timestamp("2026-07-03")  # 90 days ending 2026-09-30 (inclusive)
WINDOW_END = pd.Timestamp("2026-10-01")


@pytest.fixture(scope="module")
def ds():
    return make_job_board(seed=0)


@pytest.fixture(scope="module")
def small():
    return make_job_board(seed=3, name="small", n_users=300, n_items=150, days=30, n_reviews=200)


def gini(x) -> float:
    """Gini coefficient via the sorted-rank formula."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def gini_pairs(x) -> float:
    """Gini from its definition: mean absolute difference over all pairs / (2 * mean)."""
    x = np.asarray(x, dtype=float)
    return float(np.abs(x[:, None] - x[None, :]).mean() / (2 * x.mean()))


def within_one_edit(a: str, b: str) -> bool:
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


# --------------------------------------------------------------------- helpers are right

def test_gini_helper_matches_hand_computed_and_pairwise_definition():
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)  # 6 / (2 * 16 * 0.25)
    assert gini([5, 5, 5]) == pytest.approx(0.0)
    rng = np.random.default_rng(1)
    x = rng.lognormal(0, 1, 300)
    assert gini(x) == pytest.approx(gini_pairs(x))


def test_within_one_edit_helper():
    assert within_one_edit("あいう", "あえう") and within_one_edit("あいう", "あう")
    assert within_one_edit("あいう", "あいうえ") and not within_one_edit("あいう", "あえお")
    assert not within_one_edit("あいう", "あいう")


# ----------------------------------------------------------------------------- determinism

def _frames(d):
    return [d.interactions, d.users, d.items, d.reviews]


def test_same_seed_gives_identical_frames(small):
    again = make_job_board(seed=3, name="small", n_users=300, n_items=150, days=30, n_reviews=200)
    for a, b in zip(_frames(small), _frames(again)):
        pd.testing.assert_frame_equal(a, b)
    assert small.info == again.info


def test_same_seed_identical_at_defaults(ds):
    again = make_job_board(seed=0)
    for a, b in zip(_frames(ds), _frames(again)):
        pd.testing.assert_frame_equal(a, b)


def test_different_seed_gives_different_frames(small):
    other = make_job_board(seed=4, name="small", n_users=300, n_items=150, days=30, n_reviews=200)
    assert not small.interactions.equals(other.interactions)
    assert not small.items["title"].equals(other.items["title"])
    assert not small.reviews["text"].equals(other.reviews["text"])


# ----------------------------------------------------------------------------- sizes, ids

def test_default_counts(ds):
    assert ds.n_users == 5000
    assert ds.n_items == 2000
    assert 150_000 <= ds.n_interactions <= 250_000
    assert ds.n_reviews == 3000
    ts = ds.interactions["timestamp"]
    assert ts.notna().all()
    assert ts.min() >= WINDOW_START and ts.max() < WINDOW_END
    assert ts.max() >= END_DATE  # the window really reaches its fixed end date


def test_ids_formats_and_uniqueness(ds):
    assert ds.users["user_id"].str.fullmatch(r"U\d{5}").all() and ds.users["user_id"].is_unique
    assert ds.items["item_id"].str.fullmatch(r"J\d{5}").all() and ds.items["item_id"].is_unique
    assert ds.reviews["review_id"].str.fullmatch(r"R\d{5}").all() and ds.reviews["review_id"].is_unique
    assert ds.users["user_id"].iloc[0] == "U00001" and ds.items["item_id"].iloc[-1] == "J02000"


def test_every_interaction_refers_to_existing_user_and_item(ds):
    assert ds.interactions["user_id"].isin(set(ds.users["user_id"])).all()
    assert ds.interactions["item_id"].isin(set(ds.items["item_id"])).all()


def test_every_user_has_at_least_three_interactions(ds):
    per_user = ds.interactions.groupby("user_id").size()
    assert len(per_user) == ds.n_users
    assert per_user.min() >= 3


# -------------------------------------------------------------------------------- events

def test_events_and_weights(ds):
    inter = ds.interactions
    assert set(inter["event"]) == {"view", "favorite", "apply", "hire"}
    assert (inter["weight"] == inter["event"].map(DEFAULT_EVENT_WEIGHTS)).all()
    assert DEFAULT_EVENT_WEIGHTS == {"view": 1.0, "favorite": 3.0, "apply": 5.0, "hire": 8.0}
    counts = inter["event"].value_counts()
    assert counts["view"] > counts["favorite"] > counts["apply"] > 0


def test_favorite_and_apply_follow_a_view_of_the_same_posting(ds):
    inter = ds.interactions
    first_view = inter[inter["event"] == "view"].groupby(["user_id", "item_id"])["timestamp"].min()
    later = inter[inter["event"] != "view"].join(first_view.rename("first_view"), on=["user_id", "item_id"])
    followed = later["first_view"].notna() & (later["first_view"] <= later["timestamp"])
    assert followed.mean() >= 0.95
    # at most one favorite and one application per user and posting
    assert not inter[inter["event"] != "view"].duplicated(["user_id", "item_id", "event"]).any()


def test_no_interaction_before_its_posting_went_up(ds):
    merged = ds.interactions.merge(ds.items[["item_id", "posted_at"]], on="item_id")
    assert (merged["timestamp"] >= merged["posted_at"]).all()


# -------------------------------------------------------------------------- long tails

def test_item_popularity_is_long_tailed(ds):
    counts = ds.interactions["item_id"].value_counts().reindex(ds.items["item_id"], fill_value=0)
    top = np.sort(counts.to_numpy())[::-1]
    assert top[: len(top) // 10].sum() / top.sum() > 0.40
    assert gini(counts) > 0.5


def test_user_activity_is_long_tailed(ds):
    per_user = ds.interactions.groupby("user_id").size()
    assert per_user.max() > 10 * per_user.median()
    assert gini(per_user) > 0.4


# --------------------------------------------------------------- behaviour structure

def test_users_mostly_stay_in_their_categories_and_near_home(ds):
    region = {p: r for p, r, _ in PREFECTURES}
    m = (ds.interactions.merge(ds.items[["item_id", "category", "prefecture"]], on="item_id")
         .merge(ds.users, on="user_id"))
    in_favourite = (m["category"] == m["favorite_category"]).mean()
    assert in_favourite > 0.35  # chance would be about 1/12
    same_region = (m["prefecture"].map(region) == m["home_prefecture"].map(region)).mean()
    assert same_region > 0.6
    assert (m["prefecture"] == m["home_prefecture"]).mean() > 0.35


def test_new_postings_draw_more_attention_per_day_than_old_ones(ds):
    start, end = WINDOW_START, WINDOW_END
    items = ds.items.set_index("item_id")
    posted = items["posted_at"]

    def exposure_days(lo_age, hi_age):
        lo = np.maximum(posted + pd.Timedelta(days=lo_age), start)
        hi = np.minimum(posted + pd.Timedelta(days=hi_age), end)
        return ((hi - lo).dt.total_seconds().clip(lower=0) / 86400).sum()

    age = (ds.interactions["timestamp"] - ds.interactions["item_id"].map(posted)).dt.total_seconds() / 86400
    young_rate = (age < 7).sum() / exposure_days(0, 7)
    old_rate = (age >= 30).sum() / exposure_days(30, 10_000)
    assert young_rate > 2 * old_rate


# -------------------------------------------------------------------------------- items

def test_items_are_japanese_postings_with_metadata(ds):
    items = ds.items
    for col in ("item_id", "title", "category", "prefecture", "hourly_wage", "employer", "posted_at"):
        assert col in items.columns
    assert items["title"].map(lambda t: bool(CJK.search(t))).all()
    assert items["title"].nunique() > 0.9 * len(items)
    assert set(items["category"]) == set(CATEGORY_NAMES) and len(CATEGORY_NAMES) == 12
    assert {"飲食・フード", "軽作業・物流", "IT・エンジニア", "教育・講師"} <= set(CATEGORY_NAMES)
    assert set(items["prefecture"]) <= {p for p, _, _ in PREFECTURES}
    assert items["prefecture"].value_counts().index[0] == "東京都"
    assert 150 <= items["employer"].nunique() <= 500
    assert items["employer"].str.contains("株式会社|有限会社|合同会社|法人").all()
    assert items["posted_at"].max() < WINDOW_END


def test_wages_are_plausible_per_category(ds):
    wage = ds.items["hourly_wage"]
    assert pd.api.types.is_integer_dtype(wage)
    assert wage.between(1050, 3000).all()
    assert (wage % 10 == 0).all()
    median = ds.items.groupby("category")["hourly_wage"].median()
    assert median["IT・エンジニア"] > median["清掃"]
    tokyo = ds.items.loc[ds.items["prefecture"] == "東京都", "hourly_wage"]
    assert tokyo.min() >= 1230  # never below Tokyo's minimum wage


def test_users_carry_profile(ds):
    users = ds.users
    assert {"home_prefecture", "age_band", "favorite_category"} <= set(users.columns)
    assert set(users["favorite_category"]) <= set(CATEGORY_NAMES)
    assert users["age_band"].nunique() == 6
    assert users["home_prefecture"].value_counts().index[0] == "東京都"


# ------------------------------------------------------------------------------ reviews

def test_review_columns_and_labels(ds):
    rv = ds.reviews
    assert list(rv.columns[: len(REVIEW_COLUMNS)]) == REVIEW_COLUMNS
    assert "rating" in rv.columns and rv["rating"].between(1, 5).all()
    assert 0.08 <= rv["label"].mean() <= 0.12
    assert set(rv["label"].dropna()) == {0, 1}
    assert ((rv["label"] == 1) == (rv["kind"] != "genuine")).all()
    assert rv["company"].isin(set(ds.items["employer"])).all()
    assert rv["user_id"].isin(set(ds.users["user_id"])).all()
    assert rv["created_at"].between(WINDOW_START, WINDOW_END, inclusive="left").all()


def test_each_meaningless_kind_is_present_and_looks_like_its_kind(ds):
    rv = ds.reviews
    kinds = rv.loc[rv["label"] == 1, "kind"]
    assert set(kinds) == set(SPAM_KINDS)
    by = {k: rv.loc[rv["kind"] == k, "text"].tolist() for k in SPAM_KINDS}
    assert all(len(set(t)) == 1 for t in by["repeated_char"])
    assert all(not re.search(r"[\u4e00-\u9fff]", t) for t in by["keyboard_mash"])
    assert all(re.search(r"https?://|\d{2,4}-\d{3,4}-\d{3,4}", t) for t in by["advert"])
    genuine = rv.loc[rv["kind"] == "genuine", "text"].tolist()
    genuine_set = set(genuine)
    assert not set(by["off_topic"]) & genuine_set
    by_len: dict[int, list[str]] = {}
    for g in genuine_set:
        by_len.setdefault(len(g), []).append(g)
    for t in by["near_duplicate"]:
        assert t not in genuine_set
        candidates = by_len.get(len(t) - 1, []) + by_len.get(len(t), []) + by_len.get(len(t) + 1, [])
        assert any(within_one_edit(t, g) for g in candidates), t


def test_genuine_reviews_are_varied_and_not_separable_by_length(ds):
    rv = ds.reviews
    genuine = rv.loc[rv["kind"] == "genuine", "text"]
    spam = rv.loc[rv["kind"] != "genuine", "text"]
    assert genuine.map(lambda t: bool(CJK.search(t))).all()
    assert genuine.duplicated().mean() < 0.03
    assert (genuine.str.len() <= 12).sum() >= 50  # some genuine reviews are short
    assert (genuine.str.len() >= 120).sum() >= 200  # and some long
    assert (spam.str.len() >= 60).sum() >= 30  # some meaningless ones are long
    aspects = ["時給", "シフト", "人間関係", "研修", "通勤", "店長"]
    for word in aspects:
        assert genuine.str.contains(word).sum() > 50, word


def test_small_and_review_free_boards():
    tiny = make_job_board(seed=1, name="tiny", n_users=5, n_items=3, days=1, n_reviews=4)
    assert tiny.n_users == 5 and tiny.n_items == 3 and tiny.n_reviews == 4
    assert tiny.interactions.groupby("user_id").size().min() >= 3
    assert tiny.reviews["label"].sum() == 0  # round(0.4) meaningless reviews
    none = make_job_board(seed=1, name="none", n_users=20, n_items=10, n_reviews=0)
    assert none.reviews is None and none.n_reviews == 0


@pytest.mark.parametrize("kwargs, word", [
    ({"n_users": 0}, "n_users"), ({"n_items": -1}, "n_items"), ({"days": 0}, "days"),
    ({"n_reviews": -5}, "n_reviews"), ({"seed": -1}, "seed"), ({"name": " "}, "name"),
    ({"n_users": 2.5}, "n_users"),
])
def test_bad_parameters_raise_one_sentence(kwargs, word):
    with pytest.raises(DataError, match=word):
        make_job_board(**kwargs)


# ------------------------------------------------------------------------ info and store

def test_info_records_parameters_and_seed(ds, small):
    assert ds.source == "synthetic job board (seed 0)"
    assert small.source == "synthetic job board (seed 3)"
    assert {k: small.info[k] for k in ("seed", "n_users", "n_items", "days", "n_reviews")} == {
        "seed": 3, "n_users": 300, "n_items": 150, "days": 30, "n_reviews": 200}
    assert ds.info["end"] == "2026-09-30" and ds.info["start"] == "2026-07-03"
    assert small.name == "small" and ds.name == "jobboard"


def test_store_round_trip(ds, tmp_path):
    store = Store(tmp_path / "board.duckdb")
    save_dataset(store, ds)
    listed = list_datasets(store)
    assert listed["name"].tolist() == ["jobboard"]
    row = listed.iloc[0]
    assert (row["n_users"], row["n_items"], row["n_interactions"], row["n_reviews"]) == (
        ds.n_users, ds.n_items, ds.n_interactions, ds.n_reviews)
    assert row["source"] == "synthetic job board (seed 0)"
    back = load_dataset(store, "jobboard")
    assert back.info["seed"] == 0 and back.info["n_items"] == 2000
    items = back.items.set_index("item_id").loc[ds.items["item_id"]]
    assert items["title"].tolist() == ds.items["title"].tolist()
    assert items["employer"].tolist() == ds.items["employer"].tolist()
    assert items["hourly_wage"].astype(int).tolist() == ds.items["hourly_wage"].tolist()
    assert back.interactions["event"].value_counts().to_dict() == ds.interactions["event"].value_counts().to_dict()
    assert back.reviews["label"].sum() == ds.reviews["label"].sum()
