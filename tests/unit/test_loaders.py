"""Loaders: MovieLens formats, interactions CSV/Parquet, reviews, and their error sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data.loaders import (
    load_interactions_csv,
    load_movielens,
    load_reviews,
    parse_sep,
    parse_timestamps,
)
from engine.errors import DataError


def write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# --------------------------------------------------------------------------- MovieLens fixtures


def ml100k(tmp_path: Path) -> Path:
    d = tmp_path / "ml-100k"
    write(d / "u.data", "1\t10\t4\t881250949\n2\t10\t3\t891717742\n1\t20\t5\t878887116\n")
    flags_10 = ["0"] * 19
    flags_10[3] = flags_10[5] = "1"  # Animation, Comedy
    flags_20 = ["0"] * 19
    flags_20[8] = "1"  # Drama
    flags_30 = ["0"] * 19
    write(d / "u.item",
          "10|Toy Story (1995)|01-Jan-1995||http://x/ts|" + "|".join(flags_10) + "\n"
          "20|Amélie (2001)|25-Apr-2001||http://x/am|" + "|".join(flags_20) + "\n"
          "30|Unseen (1990)|01-Jan-1990||http://x/un|" + "|".join(flags_30) + "\n",
          encoding="latin-1")
    write(d / "u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n3|30|F|writer|10001\n")
    return d


def test_movielens_100k_fixture(tmp_path):
    ds = load_movielens(ml100k(tmp_path), "m")
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (2, 2, 3)
    items = ds.items.set_index("item_id")
    assert items.loc["10", "category"] == "Animation"
    assert items.loc["10", "genres"] == "Animation|Comedy"
    assert items.loc["20", "title"] == "Amélie (2001)"  # decoded as Latin-1
    assert items.loc["20", "year"] == 2001
    assert "30" not in items.index and ds.info["items_without_interactions"] == 1
    users = ds.users.set_index("user_id")
    assert users.loc["2", "occupation"] == "other" and users.loc["2", "age"] == 53
    inter = ds.interactions.set_index(["user_id", "item_id"])
    assert inter.loc[("1", "20"), "weight"] == 5.0
    assert inter.loc[("1", "20"), "event"] == "rating"
    # 878887116 s after the epoch, computed independently of pandas
    import datetime as dt
    expect = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=878887116)
    assert inter.loc[("1", "20"), "timestamp"] == pd.Timestamp(expect)


def test_movielens_latest_fixture_with_crlf(tmp_path):
    d = tmp_path / "ml-latest-small"
    write(d / "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,3.5,964981247\n"
          "2,2,1.0,964982224\n", newline="\r\n")
    write(d / "movies.csv", 'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n'
          '2,"American President, The (1995)",(no genres listed)\n3,Unrated (2000),Drama\n',
          newline="\r\n")
    ds = load_movielens(d, "m")
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (2, 2, 3)
    items = ds.items.set_index("item_id")
    assert items.loc["1", "category"] == "Adventure"
    assert items.loc["1", "genres"] == "Adventure|Animation"
    assert items.loc["2", "title"] == "American President, The (1995)"  # no trailing \r
    assert items.loc["2", "category"] == ""
    assert items.loc["2", "year"] == 1995
    assert ds.interactions["weight"].tolist() == [4.0, 3.5, 1.0]
    assert ds.info["items_without_interactions"] == 1


def test_movielens_1m_fixture(tmp_path):
    d = tmp_path / "ml-1m"
    write(d / "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n")
    write(d / "movies.dat", '1193::One Flew Over the Cuckoo\'s Nest (1975)::Drama\n'
          '661::Star Wars: Episode IV - "A New Hope" (1977)::Action|Sci-Fi\n'
          '5::Café (1999)::Comedy\n', encoding="latin-1")
    write(d / "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
    ds = load_movielens(d, "m")
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (2, 2, 3)
    items = ds.items.set_index("item_id")
    assert items.loc["661", "title"] == 'Star Wars: Episode IV - "A New Hope" (1977)'
    assert items.loc["661", "category"] == "Action"
    assert items.loc["661", "year"] == 1977
    users = ds.users.set_index("user_id")
    assert users.loc["2", "age"] == 56 and users.loc["2", "gender"] == "M"
    assert ds.interactions.set_index(["user_id", "item_id"]).loc[("2", "1193"), "weight"] == 4.0


def test_movielens_folder_errors(tmp_path):
    with pytest.raises(DataError) as e:
        load_movielens(tmp_path / "nope", "m")
    assert str(e.value) == f"The folder {tmp_path / 'nope'} does not exist."
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as e:
        load_movielens(tmp_path / "empty", "m")
    assert str(e.value) == (f"{tmp_path / 'empty'} holds no MovieLens ratings file; expected u.data "
                            f"(ml-100k), ratings.csv (ml-latest-small) or ratings.dat (ml-1m).")


def test_movielens_bad_rating_names_the_row(tmp_path):
    d = ml100k(tmp_path)
    write(d / "u.data", "1\t10\t4\t881250949\n2\t10\tfour\t891717742\n")
    with pytest.raises(DataError) as e:
        load_movielens(d, "m")
    assert str(e.value) == (f"{d / 'u.data'} row 2 has 'four' in the weight column 'rating'; "
                            f"expected a number.")


# --------------------------------------------------------------------------- interactions CSV


def events_csv(tmp_path: Path, ts=("1700000000", "1700000060", "1700000120")) -> Path:
    return write(tmp_path / "events.csv",
                 "uid,iid,when,kind,w\n"
                 f"u1,007,{ts[0]},view,\n"
                 f"u1,008,{ts[1]},apply,2.5\n"
                 f"u2,007,{ts[2]},,1\n")


def test_csv_mapping_keeps_ids_verbatim_and_maps_events(tmp_path):
    ds = load_interactions_csv(events_csv(tmp_path), "e", "uid", "iid", time_col="when",
                               event_col="kind")
    assert ds.interactions["item_id"].tolist() == ["007", "008", "007"]
    assert ds.interactions["event"].tolist() == ["view", "apply", "interaction"]
    # no weight column: the default weight of each event type (view 1, apply 5, other 1)
    assert ds.interactions["weight"].tolist() == [1.0, 5.0, 1.0]
    assert ds.info["duplicates_collapsed"] == 0


@pytest.mark.parametrize("ts", [
    ("1700000000", "1700000060", "1700000120"),                                # unix seconds
    ("1700000000000", "1700000060000", "1700000120000"),                       # unix ms
    ("2023-11-14T22:13:20", "2023-11-14 22:14:20", "2023-11-14T23:15:20+01:00"),  # ISO, one aware
])
def test_timestamps_seconds_ms_iso_agree(tmp_path, ts):
    ds = load_interactions_csv(events_csv(tmp_path, ts), "e", "uid", "iid", time_col="when")
    # 1700000000 s = 2023-11-14 22:13:20 UTC
    assert ds.interactions["timestamp"].tolist() == [
        pd.Timestamp("2023-11-14 22:13:20"), pd.Timestamp("2023-11-14 22:14:20"),
        pd.Timestamp("2023-11-14 22:15:20")]


def test_iso_dates_without_time(tmp_path):
    ds = load_interactions_csv(events_csv(tmp_path, ("2024-05-01", "2024-05-02", "2024-05-03")),
                               "e", "uid", "iid", time_col="when")
    assert ds.interactions["timestamp"].iloc[1] == pd.Timestamp("2024-05-02")


def test_parquet_gives_the_same_dataset_as_csv(tmp_path):
    csv_path = events_csv(tmp_path)
    raw = pd.read_csv(csv_path, dtype=str)
    raw["when"] = raw["when"].astype("int64")
    raw.to_parquet(tmp_path / "events.parquet")
    a = load_interactions_csv(csv_path, "e", "uid", "iid", time_col="when", event_col="kind")
    b = load_interactions_csv(tmp_path / "events.parquet", "e", "uid", "iid", time_col="when",
                              event_col="kind")
    pd.testing.assert_frame_equal(a.interactions, b.interactions)


def test_items_file_titles_category_and_metadata(tmp_path):
    items = write(tmp_path / "items.csv", "item,name,Category,company\n007,Spy job,Security,MI6\n"
                  "008,Chef,Food,Ritz\n999,Unused,X,Y\n")
    ds = load_interactions_csv(events_csv(tmp_path), "e", "uid", "iid", items_path=items,
                               item_id_col="item", title_col="name")
    it = ds.items.set_index("item_id")
    assert it.loc["007", "title"] == "Spy job"
    assert it.loc["008", "category"] == "Food"
    assert it.loc["008", "company"] == "Ritz"
    assert "999" not in it.index


def test_duplicates_are_collapsed_not_summed(tmp_path):
    p = write(tmp_path / "d.csv", "u,i,t,e,w\na,x,100,view,1\na,x,100,view,7\na,x,100,apply,1\n"
              "a,x,200,view,1\nb,x,100,view,1\na,x,100,view,9\n")
    ds = load_interactions_csv(p, "d", "u", "i", time_col="t", event_col="e", weight_col="w")
    assert ds.info["duplicates_collapsed"] == 2
    assert ds.n_interactions == 4
    kept = ds.interactions[(ds.interactions.user_id == "a") & (ds.interactions.event == "view")
                           & (ds.interactions.timestamp == pd.Timestamp(100, unit="s"))]
    assert kept["weight"].tolist() == [1.0]  # the first one, weights not summed


def test_tab_separator_spelled_backslash_t(tmp_path):
    p = write(tmp_path / "tab.txt", "u\ti\na\tx\nb\ty\n")
    ds = load_interactions_csv(p, "t", "u", "i", sep="\\t")
    assert ds.n_interactions == 2 and parse_sep("\\t") == "\t" and parse_sep("tab") == "\t"


def test_headerless_interactions_with_column_numbers(tmp_path):
    p = write(tmp_path / "u.data", "1\t10\t4\t881250949\n2\t10\t3\t891717742\n")
    ds = load_interactions_csv(p, "h", "0", "1", time_col="3", weight_col="2", sep="\\t")
    assert ds.interactions["user_id"].tolist() == ["1", "2"]
    assert ds.interactions["weight"].tolist() == [4.0, 3.0]
    assert ds.interactions["timestamp"].iloc[0] == pd.Timestamp(881250949, unit="s")
    # the same file read with the default ',' is one column: the message names the tab
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "h", "0", "1")
    assert str(e.value) == f"{p} seems to be separated by '\\t', not ','; pass --sep '\\t'."


# --------------------------------------------------------------------------- error sentences


def test_missing_file(tmp_path):
    with pytest.raises(DataError) as e:
        load_interactions_csv(tmp_path / "nope.csv", "x", "u", "i")
    assert str(e.value) == f"The file {tmp_path / 'nope.csv'} does not exist."


def test_misspelt_column_suggests_the_closest(tmp_path):
    p = events_csv(tmp_path)
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "userid", "iid", time_col="wehn")
    assert str(e.value) == f"{p} has no column 'userid' (given as --user-col); did you mean 'uid'?"
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "uid", "iid", time_col="wehn")
    assert str(e.value) == f"{p} has no column 'wehn' (given as --time-col); did you mean 'when'?"


def test_missing_column_without_a_close_match_lists_columns(tmp_path):
    p = events_csv(tmp_path)
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "uid", "iid", weight_col="zzzzzz")
    assert str(e.value) == (f"{p} has no column 'zzzzzz' (given as --weight-col); its columns are "
                            f"'uid', 'iid', 'when', 'kind', 'w'.")


def test_empty_and_header_only_files(tmp_path):
    empty = write(tmp_path / "empty.csv", "")
    with pytest.raises(DataError) as e:
        load_interactions_csv(empty, "x", "u", "i")
    assert str(e.value) == f"{empty} is empty; expected a header line and at least one row."
    header = write(tmp_path / "header.csv", "u,i,t\n")
    with pytest.raises(DataError) as e:
        load_interactions_csv(header, "x", "u", "i")
    assert str(e.value) == f"{header} has a header but no data rows; expected at least one row."


def test_bad_timestamp_names_first_bad_row_and_value(tmp_path):
    p = events_csv(tmp_path, ("1700000000", "yesterday", "soon"))
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "uid", "iid", time_col="when")
    assert str(e.value) == (f"{p} row 2 has the timestamp 'yesterday' in column 'when'; expected "
                            f"unix seconds, unix milliseconds or an ISO date such as "
                            f"2024-05-01T12:30:00.")
    p = events_csv(tmp_path, ("2024-05-01", "2024-13-45", "2024-05-03"))
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "uid", "iid", time_col="when")
    assert "row 2 has the timestamp '2024-13-45'" in str(e.value)


def test_empty_timestamps_become_nat_and_are_counted(tmp_path):
    p = write(tmp_path / "t.csv", "u,i,t\na,x,100\nb,y,\n")
    ds = load_interactions_csv(p, "x", "u", "i", time_col="t")
    assert ds.info["missing_timestamps"] == 1
    assert ds.interactions["timestamp"].isna().tolist() == [False, True]


def test_empty_id_names_the_row(tmp_path):
    p = write(tmp_path / "ids.csv", "u,i\na,x\nb,y\n  ,z\n")
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "u", "i")
    assert str(e.value) == f"{p} row 3 has an empty user id in column 'u'; every row needs one."


@pytest.mark.parametrize("sep, shown", [(";", "';'"), ("\t", "'\\t'"), ("|", "'|'")])
def test_wrong_delimiter_is_detected(tmp_path, sep, shown):
    p = write(tmp_path / "semi.csv", f"user{sep}item\na{sep}x\n")
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "user", "item")
    assert str(e.value) == f"{p} seems to be separated by {shown}, not ','; pass --sep {shown}."


def test_comma_file_read_with_semicolon(tmp_path):
    p = write(tmp_path / "c.csv", "user,item\na,x\n")
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "user", "item", sep=";")
    assert str(e.value) == f"{p} seems to be separated by ',', not ';'; pass --sep ','."


def test_non_numeric_and_empty_weights_name_the_row(tmp_path):
    p = write(tmp_path / "w.csv", "u,i,w\na,x,1\nb,y,lots\n")
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "u", "i", weight_col="w")
    assert str(e.value) == f"{p} row 2 has 'lots' in the weight column 'w'; expected a number."
    p = write(tmp_path / "w2.csv", "u,i,w\na,x,\n")
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "u", "i", weight_col="w")
    assert str(e.value) == f"{p} row 1 has an empty cell in the weight column 'w'; expected a number."


def test_ragged_row_names_the_line(tmp_path):
    p = write(tmp_path / "r.csv", "u,i\na,x\nb,y,z,w\n")
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "u", "i")
    assert str(e.value) == (f"{p} line 3 has 4 fields where earlier lines have 2; check the "
                            f"separator (--sep) and the quoting.")


def test_multi_character_separator_is_refused():
    with pytest.raises(DataError) as e:
        parse_sep("::")
    assert str(e.value) == ("The separator '::' is not one character; expected e.g. ',', ';', '|' "
                            "or '\\t' for a tab.")


def test_parquet_datetime_columns_naive_and_aware(tmp_path):
    when = pd.to_datetime(["2024-05-01 12:00:00", "2024-05-01 13:00:00"])
    pd.DataFrame({"u": [1, 2], "i": [10, 20], "t": when}).to_parquet(tmp_path / "a.pq")
    pd.DataFrame({"u": [1, 2], "i": [10, 20],
                  "t": when.tz_localize("Europe/Paris")}).to_parquet(tmp_path / "b.pq")
    a = load_interactions_csv(tmp_path / "a.pq", "a", "u", "i", time_col="t")
    b = load_interactions_csv(tmp_path / "b.pq", "b", "u", "i", time_col="t")
    assert a.interactions["user_id"].tolist() == ["1", "2"]
    assert a.interactions["timestamp"].tolist() == list(when)
    # 12:00 in Paris in May (UTC+2) is 10:00 UTC
    assert b.interactions["timestamp"].tolist() == list(when - pd.Timedelta(hours=2))


def test_not_utf8_names_the_byte(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("u,i,title\na,x,Caf\u00e9\n".encode("latin-1"))
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "x", "u", "i")
    assert str(e.value) == f"{p} is not UTF-8 text (line 2 has the byte 0xe9); save it as UTF-8."


def test_timestamps_out_of_range_and_fractional_ms():
    out = parse_timestamps(pd.Series(["1700000060123", "1700000060.5", ""]), Path("f.csv"), "t")
    assert out.tolist()[:2] == [pd.Timestamp("2023-11-14 22:14:20.123"),
                                pd.Timestamp("2023-11-14 22:14:20.500")]
    assert pd.isna(out.iloc[2])
    with pytest.raises(DataError) as e:
        parse_timestamps(pd.Series(["1700000060", "1e20"]), Path("f.csv"), "t")
    assert str(e.value).startswith("f.csv row 2 has the timestamp '1e20' in column 't'; expected")


def test_parse_timestamps_ms_threshold():
    # 1e11 and above are milliseconds (1e11 ms = 1973-03-03 09:46:40)
    out = parse_timestamps(pd.Series(["100000000000"]), Path("f.csv"), "t")
    assert out.iloc[0] == pd.Timestamp("1973-03-03 09:46:40")
    # just below is seconds: the year 5138, which no datetime64[ns] holds -> a clear error
    with pytest.raises(DataError) as e:
        parse_timestamps(pd.Series(["99999999999"]), Path("f.csv"), "t")
    assert "row 1 has the timestamp '99999999999'" in str(e.value)


# --------------------------------------------------------------------------- reviews


def test_review_labels_all_spellings(tmp_path):
    p = write(tmp_path / "r.csv", "body,lab\na,1\nb,0\nc,TRUE\nd,false\ne,Spam\nf,ham\ng,yes\nh,No\ni,\n")
    ds = load_reviews(p, "r", "body", label_col="lab")
    assert ds.reviews["label"].tolist()[:8] == [1, 0, 1, 0, 1, 0, 1, 0]
    assert ds.reviews["label"].isna().tolist() == [False] * 8 + [True]
    assert ds.reviews["review_id"].tolist()[:2] == ["1", "2"]
    assert ds.n_interactions == 0


def test_bad_review_label_names_the_row(tmp_path):
    p = write(tmp_path / "r.csv", "body,lab\na,1\nb,maybe\n")
    with pytest.raises(DataError) as e:
        load_reviews(p, "r", "body", label_col="lab")
    assert str(e.value) == (f"{p} row 2 has the label 'maybe' in column 'lab'; expected 1/0, "
                            f"true/false, spam/ham or yes/no.")


def test_headerless_file_with_column_numbers(tmp_path):
    p = write(tmp_path / "sms", 'ham\tGo "home" now\nspam\tWIN a prize\nham\tok\n')
    ds = load_reviews(p, "s", "1", label_col="0", sep="\\t")
    assert ds.reviews["text"].tolist() == ['Go "home" now', "WIN a prize", "ok"]
    assert ds.reviews["label"].tolist() == [0, 1, 0]
    with pytest.raises(DataError) as e:
        load_reviews(p, "s", "1", label_col="lab", sep="\\t")
    assert str(e.value) == ("Columns must be all names (file with a header) or all 0-based numbers "
                            "(file without one); got --text-col '1', --label-col 'lab'.")
    with pytest.raises(DataError) as e:
        load_reviews(p, "s", "5", sep="\\t")
    assert str(e.value) == f"{p} has 2 column(s) (numbered from 0), so --text-col 5 does not exist."


def test_label_from_votes(tmp_path):
    p = write(tmp_path / "v.csv", "id,text,Not Toxic,Toxic,Very Toxic\n1,a,3,1,1\n2,b,1,1,1\n"
              "3,c,2,1,1\n4,d,0,,1\n")
    ds = load_reviews(p, "v", "text", id_col="id", label_from_votes="Toxic+Very Toxic>Not Toxic")
    # votes 2>3 no, 2>1 yes, 2>2 no (ties are not toxic), 1>0 yes (empty cell counts 0)
    assert ds.reviews["label"].tolist() == [0, 1, 0, 1]
    assert ds.reviews["review_id"].tolist() == ["1", "2", "3", "4"]
    assert ds.reviews["Not Toxic"].tolist() == ["3", "1", "2", "0"]  # kept as metadata
    with pytest.raises(DataError) as e:
        load_reviews(p, "v", "text", label_from_votes="Toxic+Very Toxc>Not Toxic")
    assert str(e.value) == (f"{p} has no column 'Very Toxc' (given as --label-from-votes "
                            f"(Very Toxc)); did you mean 'Very Toxic'?")
    headerless = write(tmp_path / "v.tsv", "a\t3\t1\t1\nb\t1\t1\t1\n")
    ds = load_reviews(headerless, "v", "0", label_from_votes="2+3>1")
    assert ds.reviews["label"].tolist() == [0, 1]
    with pytest.raises(DataError) as e:
        load_reviews(p, "v", "text", label_from_votes="Toxic")
    assert str(e.value) == ("--label-from-votes 'Toxic' is not of the form 'A+B>C' (label 1 when "
                            "the votes in columns A and B outnumber those in C).")


def test_folder_of_review_files_prefixes_ids_and_renames_repeats(tmp_path):
    d = tmp_path / "yt"
    write(d / "A.csv", "ID,CONTENT,CLASS\nx1,hello,0\nx2,buy now,1\nx2,buy now,1\n")
    write(d / "B.csv", "ID,CONTENT,CLASS\nx1,nice,0\n")
    write(d / "notes.txt", "ignored")
    ds = load_reviews(d, "yt", "CONTENT", label_col="CLASS", id_col="ID")
    assert ds.reviews["review_id"].tolist() == ["A/x1", "A/x2", "A/x2#2", "B/x1"]
    assert ds.info["duplicate_ids_renamed"] == 1
    assert int(ds.reviews["label"].sum()) == 2


def test_review_errors(tmp_path):
    with pytest.raises(DataError) as e:
        load_reviews(tmp_path / "none.csv", "r", "text")
    assert str(e.value) == f"The file {tmp_path / 'none.csv'} does not exist."
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(DataError) as e:
        load_reviews(tmp_path / "emptydir", "r", "text")
    assert str(e.value) == f"The folder {tmp_path / 'emptydir'} holds no .csv or .tsv files."
    p = write(tmp_path / "r.csv", "body,lab\na,1\n")
    with pytest.raises(DataError) as e:
        load_reviews(p, "r", "body", label_col="lab", label_from_votes="a>b")
    assert str(e.value) == "Give either --label-col or --label-from-votes, not both."


# --------------------------------------------------------------------------- real data


def test_real_ml100k_matches_an_independent_read(shared):
    folder = shared("movielens", "ml-100k")
    ds = load_movielens(folder, "ml100k")
    raw = np.loadtxt(folder / "u.data", dtype=np.int64)
    assert ds.n_interactions == raw.shape[0] == 100_000
    assert ds.interactions["weight"].sum() == raw[:, 2].sum()
    assert ds.interactions["timestamp"].min() == pd.Timestamp(int(raw[:, 3].min()), unit="s")
    toy = ds.items.set_index("item_id").loc["1"]
    assert (toy["title"], toy["category"], toy["year"]) == ("Toy Story (1995)", "Animation", 1995)


# --------------------------------------------------------------------------- real exports (issue 10)


@pytest.mark.parametrize("ts", [
    # the exact layout of a public job-board export
    ("2023-11-14 22:13:20 UTC", "2023-11-14 22:14:20 UTC", "2023-11-14 22:15:20 UTC"),
    ("2023-11-14T22:13:20Z", "2023-11-14T22:14:20Z", "2023-11-14T22:15:20Z"),
    ("2023-11-15T07:13:20+09:00", "2023-11-15 07:14:20+09:00", "2023-11-14T22:15:20Z"),
    ("2023-11-15 07:13:20 JST", "2023-11-15 07:14:20 jst", "2023-11-14 22:15:20 GMT"),
    ("2023/11/14 22:13:20", "2023/11/14 22:14:20", "2023/11/14 22:15:20"),
    ("11/14/2023 10:13:20 PM", "11/14/2023 10:14:20 PM", "11/14/2023 10:15:20 PM"),
    ("1700000000000000", "1700000060000000", "1700000120000000"),          # unix microseconds
])
def test_export_timestamps_become_the_same_utc_times(tmp_path, ts):
    ds = load_interactions_csv(events_csv(tmp_path, ts), "e", "uid", "iid", time_col="when")
    # 1700000000 s = 2023-11-14 22:13:20 UTC; 07:13:20 in Tokyo (+09:00) is 22:13:20 UTC
    assert ds.interactions["timestamp"].tolist() == [
        pd.Timestamp("2023-11-14 22:13:20"), pd.Timestamp("2023-11-14 22:14:20"),
        pd.Timestamp("2023-11-14 22:15:20")]
    assert "missing_timestamps" not in ds.info


def test_date_only_and_slashed_dates(tmp_path):
    ds = load_interactions_csv(events_csv(tmp_path, ("2024/05/01", "2024/05/02", "2024/05/03")),
                               "e", "uid", "iid", time_col="when")
    assert ds.interactions["timestamp"].tolist() == [pd.Timestamp("2024-05-01"),
                                                     pd.Timestamp("2024-05-02"),
                                                     pd.Timestamp("2024-05-03")]


def test_day_first_when_a_day_above_twelve_settles_it(tmp_path):
    ds = load_interactions_csv(events_csv(tmp_path, ("1/5/2024 12:30", "13/5/2024 12:30",
                                                     "2/5/2024 08:00")),
                               "e", "uid", "iid", time_col="when")
    assert ds.interactions["timestamp"].tolist() == [pd.Timestamp("2024-05-01 12:30"),
                                                     pd.Timestamp("2024-05-13 12:30"),
                                                     pd.Timestamp("2024-05-02 08:00")]


def test_ambiguous_day_month_asks_for_time_format(tmp_path):
    p = events_csv(tmp_path, ("5/1/2024 12:30 PM", "6/3/2024 1:00 AM", "7/2/2024 9:00 AM"))
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "e", "uid", "iid", time_col="when")
    assert str(e.value).startswith(f"{p} row 1 has the timestamp '5/1/2024 12:30 PM' in column "
                                   f"'when', which reads as 2024-05-01 (%m/%d/%Y %I:%M %p) or "
                                   f"2024-01-05 (%d/%m/%Y %I:%M %p); day and month are ambiguous")
    assert "--time-format" in str(e.value)
    ds = load_interactions_csv(p, "e", "uid", "iid", time_col="when",
                               time_format="%d/%m/%Y %I:%M %p")
    assert ds.interactions["timestamp"].tolist() == [pd.Timestamp("2024-01-05 12:30"),
                                                     pd.Timestamp("2024-03-06 01:00"),
                                                     pd.Timestamp("2024-02-07 09:00")]


def test_mixed_formats_name_the_row_and_ask_for_time_format(tmp_path):
    p = events_csv(tmp_path, ("2024-05-01 10:00", "2024-05-02 11:00", "05/03/2024 12:00"))
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "e", "uid", "iid", time_col="when")
    assert str(e.value) == (f"{p} row 3 has the timestamp '05/03/2024 12:00' in column 'when', "
                            f"which does not follow the layout of row 1 ('2024-05-01 10:00'); the "
                            f"column mixes formats, so pass --time-format with a strftime format, "
                            f"e.g. --time-format '%d/%m/%Y %H:%M'.")
    with pytest.raises(DataError) as e:
        load_interactions_csv(p, "e", "uid", "iid", time_col="when", time_format="%Y-%m-%d %H:%M")
    assert str(e.value).startswith(f"{p} row 3 has the timestamp '05/03/2024 12:00' in column "
                                   f"'when'; expected the --time-format '%Y-%m-%d %H:%M'")


def test_utc_zone_keeps_repeat_views_and_splits_by_time(tmp_path):
    # the same user viewing the same job twice: two events, both kept, ordered in time
    p = write(tmp_path / "views.csv",
              "user,job,viewed\n"
              "a,j1,2014-12-12 20:12:35 UTC\na,j1,2014-12-13 08:00:00 UTC\na,j2,2014-12-14 09:00:00 UTC\n"
              "b,j1,2014-12-12 21:00:00 UTC\nb,j2,2014-12-15 10:00:00 UTC\nb,j3,2014-12-16 11:00:00 UTC\n")
    ds = load_interactions_csv(p, "v", "user", "job", time_col="viewed")
    assert len(ds.interactions) == 6 and ds.info["duplicates_collapsed"] == 0
    assert ds.interactions["timestamp"].notna().all()
    from engine.evaluate.splits import make_split

    split = make_split(ds.interactions, "auto")
    assert split.method == "leave_last_n"  # timestamps present: split by time
    # each user's latest first-seen item is the test item
    assert sorted(zip(split.test["user_id"], split.test["item_id"])) == [("a", "j2"), ("b", "j3")]
    # the repeat view of (a, j1) stays in train as two events
    assert int(((split.train["user_id"] == "a") & (split.train["item_id"] == "j1")).sum()) == 2


def jobs_log(tmp_path: Path, name: str = "log.csv") -> Path:
    # two viewers (with their own region) viewing jobs; Title/Company constant per job,
    # except one Company typo; City constant per job too
    return write(tmp_path / name,
                 "viewer,job,Title,Company,City,viewer region,viewed\n"
                 "u1,j1,Chef,Ritz,Tokyo,Kanto,2024-05-01 10:00 JST\n"
                 "u2,j1,Chef,Ritz,Tokyo,Kansai,2024-05-01 11:00 JST\n"
                 "u3,j1,Chef,Ritz.,Tokyo,Kanto,2024-05-01 12:00 JST\n"
                 "u1,j2,Driver,Taxi Co,,Kanto,2024-05-02 10:00 JST\n"
                 "u2,j2,Driver,,Osaka,Kansai,2024-05-02 11:00 JST\n")


def test_item_cols_from_the_interactions_file_take_no_user_column(tmp_path):
    p = jobs_log(tmp_path)
    ds = load_interactions_csv(p, "j", "viewer", "job", time_col="viewed", items_path=p,
                               title_col="Title", item_cols="Company, City",
                               user_cols="viewer region")
    items = ds.items.set_index("item_id")
    assert sorted(items.columns) == ["City", "Company", "category", "title"]
    # most frequent non-empty value: Ritz (2) over the typo Ritz. (1); empty cells ignored
    assert items.loc["j1", "Company"] == "Ritz"
    assert items.loc["j2", "Company"] == "Taxi Co" and items.loc["j2", "City"] == "Osaka"
    assert items.loc["j2", "title"] == "Driver"
    users = ds.users.set_index("user_id")
    assert users.loc["u2", "viewer region"] == "Kansai"
    assert "viewer" not in items.columns and "viewer region" not in items.columns


def test_without_item_cols_columns_that_vary_within_an_item_are_dropped(tmp_path):
    p = jobs_log(tmp_path)
    ds = load_interactions_csv(p, "j", "viewer", "job", time_col="viewed", items_path=p,
                               title_col="Title")
    # viewer, viewer region and viewed vary within j1; Company varies (typo) within j1
    assert sorted(ds.items.columns) == ["City", "category", "item_id", "title"]
    assert ds.info["item_cols_dropped"] == {"viewer": 2, "Company": 1, "viewer region": 2,
                                            "viewed": 2}
    from engine.data.loaders import dropped_note

    assert dropped_note(ds.info) == (
        "item metadata: left out 'viewer' (2 items), 'Company' (1 item), 'viewer region' "
        "(2 items), 'viewed' (2 items): their value varies within an item's rows; name the "
        "columns to keep with --item-cols.")


def test_gzip_zip_and_parquet_import_like_csv(tmp_path):
    import gzip
    import zipfile

    p = jobs_log(tmp_path)
    text = p.read_bytes()
    gz = tmp_path / "log.csv.gz"
    gz.write_bytes(gzip.compress(text))
    zp = tmp_path / "log.csv.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("log.csv", text)
    pq = tmp_path / "log.parquet"
    pd.read_csv(p, dtype=str).to_parquet(pq)
    want = load_interactions_csv(p, "j", "viewer", "job", time_col="viewed", item_cols="City")
    for f in (gz, zp, pq):
        got = load_interactions_csv(f, "j", "viewer", "job", time_col="viewed", item_cols="City")
        pd.testing.assert_frame_equal(got.interactions, want.interactions)
        pd.testing.assert_frame_equal(got.items, want.items)
    tsv = tmp_path / "log.tsv.gz"
    tsv.write_bytes(gzip.compress(text.replace(b",", b"\t")))
    got = load_interactions_csv(tsv, "j", "viewer", "job", time_col="viewed")
    pd.testing.assert_frame_equal(got.interactions, want.interactions)
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(DataError) as e:
        load_interactions_csv(broken, "j", "viewer", "job")
    assert str(e.value).startswith(f"{broken} could not be uncompressed (")


def test_japanese_dotted_and_spaced_column_names(tmp_path):
    p = write(tmp_path / "jp.csv", "ユーザー,求人.id,職種 名,日時\n"
              "山田,A1,調理師,2024-05-01 09:00 JST\n佐藤,A1,調理師,2024-05-02 09:00 JST\n"
              "山田,B2,運転手,2024-05-03 09:00 JST\n")
    ds = load_interactions_csv(p, "jp", "ユーザー", "求人.id", time_col="日時", title_col="職種 名")
    assert ds.items.set_index("item_id").loc["A1", "title"] == "調理師"
    assert ds.interactions["timestamp"].iloc[0] == pd.Timestamp("2024-05-01 00:00")


def test_named_columns_that_vary_are_kept_and_said(tmp_path):
    from engine.data.loaders import varying_note

    p = jobs_log(tmp_path)
    ds = load_interactions_csv(p, "j", "viewer", "job", items_path=p, title_col="Title",
                               item_cols=["Company"])
    # Company differs within j1 (Ritz / Ritz.): kept as the most frequent value, and said
    assert ds.items.set_index("item_id")["Company"].to_dict() == {"j1": "Ritz", "j2": "Taxi Co"}
    assert ds.info["item_cols_varying"] == {"Company": 1}
    assert varying_note(ds.info) == ("item metadata: 'Company' (1 item) differs within some items' "
                                     "rows; each item got its most frequent non-empty value.")
    assert "item_cols_dropped" not in ds.info


def test_zone_after_a_date_only_and_a_bad_text_date(tmp_path):
    out = parse_timestamps(pd.Series(["2024-05-01 UTC", "2024-05-02 JST"]), Path("f.csv"), "t")
    # midnight in Tokyo on 2 May is 15:00 UTC on 1 May
    assert out.tolist() == [pd.Timestamp("2024-05-01"), pd.Timestamp("2024-05-01 15:00")]
    with pytest.raises(DataError) as e:
        parse_timestamps(pd.Series(["soon"]), Path("f.csv"), "t")
    assert str(e.value).startswith("f.csv row 1 has the timestamp 'soon' in column 't'; expected ")
    assert "or pass --time-format" in str(e.value)
