"""Loaders: MovieLens folders, any interactions CSV/Parquet with a column mapping, reviews.

Every loader returns an :class:`engine.data.Dataset` and raises :class:`DataError` with
one sentence naming the file, column or row and what was expected. Nothing here touches
the store: the CLI saves the result in one transaction, so bad input never leaves a
half-written store behind.

Conventions shared by all loaders:

* Row numbers in messages count data rows from 1, the header not included (so "row 3"
  is line 4 of a CSV file with a header, line 3 of a file without one).
* Ids are read as text, verbatim except for surrounding spaces ("007" stays "007").
* Timestamps may be unix seconds, milliseconds (any number of 1e11 or more, i.e. after
  1973 in ms), microseconds (1e14 or more) or nanoseconds (1e17 or more); ISO 8601
  ("2024-05-01", "2024-05-01T12:30:00Z", "+09:00"); a time followed by a zone name from
  ``ZONE_OFFSETS`` ("2014-12-12 20:12:35 UTC", "... JST"); or one other layout that
  pandas reads ("2024/05/01 12:30", "5/1/2024 12:30 PM") when day and month cannot be
  swapped. Parsing is pandas' (``to_datetime`` with ISO8601, a guessed format, or the
  user's ``time_format``); a column that mixes layouts or is day/month-ambiguous is an
  error naming a row and asking for ``--time-format``. Aware times are converted to UTC,
  naive ones are taken as UTC; all are stored without a zone. Empty cells become NaT and
  are counted in ``info["missing_timestamps"]``.
* Files may be compressed (.gz, .zip, .bz2, .xz, .zst; pandas infers it from the suffix);
  "data.tsv.gz" is tab-separated like "data.tsv".
* Metadata from a file with several rows per id (``--items`` on the interactions file):
  one value per id, the most frequent non-empty one; see ``load_interactions_csv``.
* Separators: ``sep=None`` means "," (or a tab for .tsv/.tab files). The two characters
  backslash-t, or the word "tab", mean a tab. Tab-separated files are read without
  quote handling (a '"' is an ordinary character), as TSV has no quoting rules and
  real TSV corpora such as the SMS Spam Collection contain stray quotes.
* Duplicate events -- same user, item, event and timestamp -- are collapsed into one
  (the first is kept; weights are not summed) and their number is reported in
  ``info["duplicates_collapsed"]``. Without a time column all timestamps are NaT, so
  repeated (user, item, event) rows collapse too.
* Items and users are those that appear in the interactions: catalogue rows with no
  interaction are dropped and counted in ``info["items_without_interactions"]``.
"""

from __future__ import annotations

import csv
import difflib
import re
import zipfile
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.dataset import Dataset, ids_to_text
from engine.errors import DataError
from engine.progress import ProgressFn, null_progress

#: What a timestamp may look like, for error messages.
TIMESTAMP_HINT = "unix seconds, unix milliseconds or an ISO date such as 2024-05-01T12:30:00"
#: Review label spellings (compared lower-case, stripped) -> 1/0.
LABEL_VALUES = {"1": 1, "1.0": 1, "true": 1, "spam": 1, "yes": 1,
                "0": 0, "0.0": 0, "false": 0, "ham": 0, "no": 0}
_PARQUET_EXT = {".parquet", ".pq"}
_SEP_NAMES = {",": "','", ";": "';'", "\t": "'\\t'", "|": "'|'"}

ML100K_GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                 "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                 "Romance", "Sci-Fi", "Thriller", "War", "Western"]


# --------------------------------------------------------------------------- helpers


def parse_sep(sep: str | None) -> str | None:
    """A separator as given on a command line -> one character (None stays None)."""
    if sep is None:
        return None
    if sep in ("\\t", "tab", "TAB", "\t"):
        return "\t"
    if sep in ("\n", "\r", '"', "\\n", "\\r") or (len(sep) == 1 and not sep.isprintable()):
        raise DataError(f"The separator {sep!r} cannot separate columns (it ends lines or "
                        f"quotes cells); expected e.g. ',', ';', '|' or '\\t' for a tab.")
    if len(sep) != 1:
        raise DataError(f"The separator {sep!r} is not one character; expected e.g. ',', ';', "
                        f"'|' or '\\t' for a tab.")
    return sep


def _sep_name(sep: str) -> str:
    return _SEP_NAMES.get(sep, repr(sep))


def _existing_file(path, what: str = "file") -> Path:
    p = Path(path)
    if not p.exists():
        raise DataError(f"The {what} {p} does not exist.")
    if p.is_dir():
        raise DataError(f"{p} is a folder; expected a {what}.")
    return p


#: Compression suffixes pandas reads by itself (``compression="infer"``).
_COMPRESSED_EXT = {".gz", ".zip", ".bz2", ".xz", ".zst"}


def _base_suffix(path: Path) -> str:
    """".tsv" for data.tsv and data.tsv.gz alike (the suffix under any compression)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED_EXT:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _default_sep(path: Path, sep: str | None) -> str:
    sep = parse_sep(sep)
    if sep is not None:
        return sep
    return "\t" if _base_suffix(path) in (".tsv", ".tab") else ","


def read_table(path, sep: str | None = None, header: bool = True, encoding: str = "utf-8-sig",
               names: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV/TSV (every cell as text, empty cells as NaN), plain or compressed
    (.gz/.zip/.bz2/.xz/.zst: pandas infers the compression from the suffix), or a Parquet file.

    Raises DataError for a missing, empty, header-only, undecodable or ragged file.
    """
    p = _existing_file(path)
    if p.suffix.lower() in _PARQUET_EXT:
        try:
            df = pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises many types; all mean "not Parquet"
            raise DataError(f"{p} could not be read as Parquet ({_first_line(exc)}).") from None
        if df.empty:
            raise DataError(f"{p} has no rows; expected at least one.")
        df.columns = [str(c) for c in df.columns]
        return df.reset_index(drop=True)
    sep = _default_sep(p, sep)
    if p.stat().st_size == 0:
        raise DataError(f"{p} is empty; expected a header line and at least one row.")
    try:
        df = pd.read_csv(p, sep=sep, header=0 if header else None, names=names, dtype=str,
                         keep_default_na=False, na_values=[""], encoding=encoding,
                         quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL,
                         skip_blank_lines=True)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        # a .gz/.zip that is not one, or a zip with several files (pandas wants one)
        raise DataError(f"{p} could not be uncompressed ({_first_line(exc)}).") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{p} is empty; expected a header line and at least one row.") from None
    except UnicodeDecodeError:
        if p.suffix.lower() in _COMPRESSED_EXT:
            raise DataError(f"{p} does not hold {encoding.replace('-sig', '').upper()} text once "
                            f"uncompressed; save it as UTF-8.") from None
        line, byte = _first_undecodable(p, encoding)
        raise DataError(f"{p} is not {encoding.replace('-sig', '').upper()} text (line {line} "
                        f"has the byte 0x{byte:02x}); save it as UTF-8.") from None
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise DataError(f"{p} line {m.group(2)} has {m.group(3)} fields where earlier lines have "
                            f"{m.group(1)}; check the separator (--sep) and the quoting.") from None
        raise DataError(f"{p} could not be parsed as {_sep_name(sep)}-separated text "
                        f"({_first_line(exc)}).") from None
    if df.empty:
        if header:
            raise DataError(f"{p} has a header but no data rows; expected at least one row.")
        raise DataError(f"{p} is empty; expected at least one row.")
    if header:
        df.columns = [str(c).strip() for c in df.columns]
    return df


def _first_undecodable(path: Path, encoding: str) -> tuple[int, int]:
    """(line number from 1, offending byte) of the first line that does not decode."""
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                return n, raw[exc.start]
    return 0, 0


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__


def _delimiter_hint(path: Path, df: pd.DataFrame, sep: str | None) -> str | None:
    """If the file came out as one column whose name holds another separator, say so."""
    if df.shape[1] != 1 or path.suffix.lower() in _PARQUET_EXT:
        return None
    # the header line, or the first line of a file read without one
    header = str(df.iloc[0, 0]) if not isinstance(df.columns[0], str) and len(df) else str(df.columns[0])
    used = _default_sep(path, sep)
    counts = {c: header.count(c) for c in (",", ";", "\t", "|") if c != used}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        return None
    return (f"{path} seems to be separated by {_sep_name(best)}, not {_sep_name(used)}; "
            f"pass --sep {_sep_name(best)}.")


def require_columns(df: pd.DataFrame, path: Path, columns: dict[str, object],
                    sep: str | None = None, extra_hint: str = "") -> None:
    """Each mapped column must exist; suggest the closest name (difflib) when it does not.

    ``columns`` maps a role (e.g. "--user-col") to the column name given for it.
    """
    present = list(df.columns)
    for role, col in columns.items():
        if col is None or col in present:
            continue
        hint = _delimiter_hint(path, df, sep)
        if hint:
            raise DataError(hint)
        by_lower = {str(c).lower(): c for c in present}
        close = difflib.get_close_matches(str(col).lower(), list(by_lower), n=1, cutoff=0.6)
        if close:
            raise DataError(f"{path} has no column {col!r} (given as {role}); "
                            f"did you mean {by_lower[close[0]]!r}?")
        shown = ", ".join(repr(_clip(c)) for c in present[:12]) + (", ..." if len(present) > 12 else "")
        raise DataError(f"{path} has no column {col!r} (given as {role}); its columns are "
                        f"{shown}{extra_hint}.")


def _clip(name, width: int = 30) -> str:
    name = str(name)
    return name if len(name) <= width else name[: width - 3] + "..."


def ids_as_text(s: pd.Series, path: Path, col, what: str) -> pd.Series:
    """Ids as stripped text; an empty id is an error naming its row."""
    text = ids_to_text(s).str.strip()
    empty = text.isna() | (text == "")
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 1
        raise DataError(f"{path} row {row} has an empty {what} in column {col!r}; "
                        f"every row needs one.")
    # a quoted cell spanning lines would make several rows one id: refuse (engine.validate)
    broken = text.str.contains(r"[\x00-\x1f\x7f]", regex=True, na=False)
    if broken.any():
        row = int(np.flatnonzero(broken.to_numpy())[0]) + 1
        raise DataError(f"{path} row {row} has a {what} in column {col!r} with a line break or "
                        f"another control character (a quoted cell spanning lines?); ids "
                        f"must be on one line.")
    return text.astype(object)


#: Zone abbreviations that exports append to times ("2014-12-12 20:12:35 UTC") -> offsets.
#: Written by hand because pandas/dateutil know only UTC/GMT among them (``%Z`` does not
#: take "JST"), and abbreviations are ambiguous in general (IST, CST); these are the
#: common unambiguous ones. Anything else is left as it is and fails with a clear sentence.
ZONE_OFFSETS = {"UTC": "+00:00", "GMT": "+00:00", "Z": "+00:00", "JST": "+09:00",
                "KST": "+09:00", "HKT": "+08:00", "SGT": "+08:00", "CET": "+01:00",
                "CEST": "+02:00", "EET": "+02:00", "EEST": "+03:00", "BST": "+01:00",
                "WET": "+00:00", "WEST": "+01:00", "EST": "-05:00", "EDT": "-04:00",
                "CDT": "-05:00", "MST": "-07:00", "MDT": "-06:00", "PST": "-08:00",
                "PDT": "-07:00", "AEST": "+10:00", "AEDT": "+11:00", "NZST": "+12:00"}
#: Spreadsheet layouts with a 12-hour clock, month first then day first.
EXCEL_FORMATS = ["%m/%d/%Y %I:%M:%S %p", "%d/%m/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
                 "%d/%m/%Y %I:%M %p"]
TIME_FORMAT_HINT = "pass --time-format with a strftime format, e.g. --time-format '%d/%m/%Y %H:%M'"


def _zones_to_offsets(raw: pd.Series) -> pd.Series:
    """"2014-12-12 20:12:35 UTC" -> "2014-12-12 20:12:35+00:00" for the zones of ZONE_OFFSETS.

    The split at the last space is a plain string split (pandas str.rpartition), not a
    date regex: the date itself is still read by pandas.
    """
    parts = raw.str.rpartition(" ")
    zone = parts[2].str.upper()
    known = (parts[1] == " ") & zone.isin(list(ZONE_OFFSETS))
    if not known.any():
        return raw
    stem = parts[0].str.rstrip()
    # a date without a time ("2024-05-01 UTC") gets midnight, so the offset has a time to follow
    stem = stem.where(stem.str.contains(":", regex=False), stem + " 00:00")
    return raw.where(~known, stem + zone.map(ZONE_OFFSETS))


def _to_utc(values: pd.Series, fmt: str) -> pd.Series:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about dayfirst guesses; we decide
        return pd.to_datetime(values, format=fmt, utc=True, errors="coerce")


def parse_timestamps(s: pd.Series, path: Path, col, time_format: str | None = None) -> pd.Series:
    """Timestamps as exports write them -> naive UTC datetime64[us].

    * Numbers: unix seconds; 1e11 or more are milliseconds (1e11 s would be the year
      5138), 1e14 or more microseconds, 1e17 or more nanoseconds.
    * Text: ISO 8601 with or without a zone ("Z", "+09:00"), date-only, a trailing zone
      name ("UTC", "JST"; see ZONE_OFFSETS), and any one other layout that pandas can
      guess from the first value ("2024/05/01 12:30", "5/1/2024 12:30 PM") -- as long as
      every value follows it and day and month cannot be swapped (if both readings fit
      every value and give different dates, the column is ambiguous). Aware times are
      converted to UTC; naive ones are taken as UTC.
    * ``time_format``: a strftime format (pandas ``to_datetime(format=...)``) that every
      value must follow; it settles mixed or ambiguous columns.

    Empty cells become NaT; anything else unparsable is an error naming the first bad row.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(s.dt, "tz", None) else s
        return out.astype("datetime64[us]").reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(s):
        raw = s.reset_index(drop=True)
        present = raw.notna()
    else:
        raw = s.astype("string").str.strip().reset_index(drop=True)
        present = (raw.notna() & (raw != "")).fillna(False).astype(bool)
    nums = pd.to_numeric(raw, errors="coerce")
    is_num = nums.notna() & present

    def first(mask: pd.Series) -> int:
        return int(np.flatnonzero(mask.to_numpy())[0])

    def fail(mask: pd.Series, expected: str = TIMESTAMP_HINT) -> None:
        i = first(mask)
        raise DataError(f"{path} row {i + 1} has the timestamp {str(raw.iloc[i])!r} in column "
                        f"{col!r}; expected {expected}.")

    def done(parsed: pd.Series) -> pd.Series:
        return parsed.dt.tz_localize(None).astype("datetime64[us]").reset_index(drop=True)

    if time_format is None and present.any() and is_num[present].iloc[0]:
        # numeric file: every value must be a number
        if (present & ~is_num).any():
            fail(present & ~is_num)
        vals = nums.where(present).astype("float64")
        size = vals.abs()
        # whole microseconds since the epoch; ms values scaled exactly, not via float seconds
        micros = np.round(np.select([size >= 1e17, size >= 1e14, size >= 1e11],
                                    [vals / 1e3, vals, vals * 1e3], vals * 1e6))
        # keep within what datetime64[ns] holds (years 1677-2262), which pandas needs
        bad = present & ~(np.abs(np.nan_to_num(micros)) < 9.2e15)
        if bad.any():
            fail(bad)
        out = pd.to_datetime(pd.Series(micros, dtype="float64"), unit="us")
        return out.astype("datetime64[us]").reset_index(drop=True)
    text = _zones_to_offsets(raw.astype("string")).where(present)
    if time_format is not None:
        parsed = _to_utc(text, time_format)
        if (present & parsed.isna()).any():
            fail(present & parsed.isna(), f"the --time-format {time_format!r}")
        return done(parsed)
    parsed = _to_utc(text, "ISO8601")
    if not (present & parsed.isna()).any():
        return done(parsed)
    # Not all ISO 8601: let pandas guess the layout of the first value, both ways round.
    from pandas.tseries.api import guess_datetime_format

    i0 = first(present)
    sample = str(text.iloc[i0])
    guessed = [f for f in (guess_datetime_format(sample),
                           guess_datetime_format(sample, dayfirst=True)) if f]
    # pandas' guess gives up on 12-hour times other than 12 ("5/1/2024 1:30 PM"), so the
    # Excel layouts are tried as well, when they read the first value
    extra = [f for f in EXCEL_FORMATS if pd.notna(_to_utc(pd.Series([sample]), f).iloc[0])]
    formats = list(dict.fromkeys(guessed + extra))
    fits = {f: _to_utc(text, f) for f in formats}
    full = {f: p for f, p in fits.items() if not (present & p.isna()).any()}
    for (fa, pa), (fb, pb) in zip(list(full.items()), list(full.items())[1:]):
        differ = present & (pa != pb)
        if differ.any():
            i = first(differ)
            raise DataError(f"{path} row {i + 1} has the timestamp {str(raw.iloc[i])!r} in column "
                            f"{col!r}, which reads as {pa.iloc[i]:%Y-%m-%d} ({fa}) or "
                            f"{pb.iloc[i]:%Y-%m-%d} ({fb}); day and month are ambiguous in this "
                            f"column, so {TIME_FORMAT_HINT}.")
    if full:
        return done(next(iter(full.values())))
    if not formats:  # the first value itself is not a date pandas recognises
        fail(present & (parsed.isna() | (np.arange(len(raw)) == i0)),
             f"{TIMESTAMP_HINT}, or {TIME_FORMAT_HINT.replace('e.g. ', 'such as ')}")
    # some rows follow the first row's layout and others do not: a mixed column
    best = max(fits.values(), key=lambda p: int(p.notna().sum()))
    i = first(present & best.isna())
    if guess_datetime_format(str(text.iloc[i])) is None and pd.isna(parsed.iloc[i]):
        fail(present & best.isna(),  # not a date at all ("2024-13-45", "soon")
             f"{TIMESTAMP_HINT}, or {TIME_FORMAT_HINT.replace('e.g. ', 'such as ')}")
    raise DataError(f"{path} row {i + 1} has the timestamp {str(raw.iloc[i])!r} in column "
                    f"{col!r}, which does not follow the layout of row {i0 + 1} "
                    f"({str(raw.iloc[i0])!r}); the column mixes formats, so {TIME_FORMAT_HINT}.")


def _numbers(s: pd.Series, path: Path, col, what: str) -> pd.Series:
    """A numeric column; an empty or non-numeric cell is an error naming its row."""
    vals = pd.to_numeric(s, errors="coerce")
    bad = vals.isna() | ~np.isfinite(vals.astype("float64"))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        shown = s.iloc[i]
        shown = "an empty cell" if (shown is None or (isinstance(shown, float) and np.isnan(shown))
                                    or str(shown).strip() == "") else f"{str(shown)!r}"
        raise DataError(f"{path} row {i + 1} has {shown} in the {what} column {col!r}; "
                        f"expected a number.")
    return vals.astype("float64").reset_index(drop=True)


def _interactions(df: pd.DataFrame, path: Path, user_col, item_col, time_col=None, event_col=None,
                  weight_col=None, event: str = "interaction",
                  time_format: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Mapped columns -> INTERACTION_COLUMNS frame with duplicates collapsed, and info."""
    out = pd.DataFrame({"user_id": ids_as_text(df[user_col], path, user_col, "user id").to_numpy(),
                        "item_id": ids_as_text(df[item_col], path, item_col, "item id").to_numpy()})
    info: dict = {}
    if time_col is not None:
        out["timestamp"] = parse_timestamps(df[time_col], path, time_col, time_format).to_numpy()
        missing = int(out["timestamp"].isna().sum())
        if missing:
            info["missing_timestamps"] = missing
    else:
        out["timestamp"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us]")
    if event_col is not None:
        ev = df[event_col].astype("string").str.strip()
        out["event"] = ev.where(ev.notna() & (ev != ""), "interaction").astype(object).to_numpy()
    else:
        out["event"] = event
    if weight_col is not None:
        out["weight"] = _numbers(df[weight_col], path, weight_col, "weight").to_numpy()
    dup = out.duplicated(["user_id", "item_id", "event", "timestamp"], keep="first")
    info["duplicates_collapsed"] = int(dup.sum())
    return out[~dup].reset_index(drop=True), info


def _restrict(table: pd.DataFrame | None, key: str, ids: pd.Series) -> tuple[pd.DataFrame | None, int]:
    if table is None:
        return None, 0
    keep = table[key].isin(set(ids))
    return table[keep].reset_index(drop=True), int((~keep).sum())


def _dataset(name: str, inter: pd.DataFrame, info: dict, users=None, items=None,
             source: str = "") -> Dataset:
    items, n_items_dropped = _restrict(items, "item_id", inter["item_id"])
    users, _ = _restrict(users, "user_id", inter["user_id"])
    if n_items_dropped:
        info["items_without_interactions"] = n_items_dropped
    return Dataset(name=name, interactions=inter, users=users, items=items, source=source, info=info)


def read_mapped(path: Path, sep: str | None, columns: dict[str, object],
                extra_hint: str = "") -> tuple[pd.DataFrame, dict[str, object]]:
    """Read a file and check its mapped columns; returns the frame and the column keys.

    Columns are names when the file has a header. When every given column is a 0-based
    number instead (``"1"`` or ``1``), the file is read without a header and the numbers
    index its columns.
    """
    if _column_spec(columns):
        df = read_table(path, sep=sep, header=False)
        keys = {role: None if c is None else int(c) for role, c in columns.items()}
        for role, c in keys.items():
            if c is not None and c >= df.shape[1]:
                hint = _delimiter_hint(path, df, sep)
                raise DataError(hint or f"{path} has {df.shape[1]} column(s) (numbered from 0), "
                                        f"so {role} {c} does not exist.")
        return df, keys
    df = read_table(path, sep=sep)
    require_columns(df, path, columns, sep=sep, extra_hint=extra_hint)
    return df, dict(columns)


def _column_spec(specs: dict[str, object]) -> bool:
    """True when every given column is a 0-based number (file without a header)."""
    given = {k: v for k, v in specs.items() if v is not None}
    numeric = {k: isinstance(v, int) or str(v).strip().isdigit() for k, v in given.items()}
    if any(numeric.values()) and not all(numeric.values()):
        shown = ", ".join(f"{k} {given[k]!r}" for k in given)
        raise DataError(f"Columns must be all names (file with a header) or all 0-based numbers "
                        f"(file without one); got {shown}.")
    return bool(given) and all(numeric.values())


# --------------------------------------------------------------------------- MovieLens


def load_movielens(path, name: str, progress: ProgressFn = null_progress) -> Dataset:
    """A MovieLens folder, its format detected from the files it holds.

    * ml-100k: ``u.data`` (tab: user item rating unix_ts), ``u.item`` ('|', Latin-1:
      id|title|release date|video release|IMDb URL|19 genre flags), ``u.user``
      ('|': id|age|gender|occupation|zip).
    * ml-latest(-small): ``ratings.csv`` (userId,movieId,rating,timestamp),
      ``movies.csv`` (movieId,title,genres).
    * ml-1m (and ml-10m): ``ratings.dat``, ``movies.dat`` (Latin-1), ``users.dat``, all
      '::'-separated without a header.

    Events are "rating" with weight = the rating; timestamps come from unix seconds.
    Items get ``category`` = their first genre, plus ``genres`` ("A|B") and ``year``.
    """
    folder = Path(path)
    if not folder.exists():
        raise DataError(f"The folder {folder} does not exist.")
    if not folder.is_dir():
        raise DataError(f"{folder} is a file; expected a MovieLens folder holding u.data "
                        f"(ml-100k), ratings.csv (ml-latest-small) or ratings.dat (ml-1m).")
    if (folder / "u.data").exists():
        return _load_ml100k(folder, name, progress)
    if (folder / "ratings.csv").exists():
        return _load_ml_latest(folder, name, progress)
    if (folder / "ratings.dat").exists():
        return _load_ml1m(folder, name, progress)
    raise DataError(f"{folder} holds no MovieLens ratings file; expected u.data (ml-100k), "
                    f"ratings.csv (ml-latest-small) or ratings.dat (ml-1m).")


def _year_from_title(titles: pd.Series) -> pd.Series:
    return pd.to_numeric(titles.astype("string").str.extract(r"\((\d{4})\)\s*$")[0],
                         errors="coerce").astype("Int64")


def _load_ml100k(folder: Path, name: str, progress: ProgressFn) -> Dataset:
    stage = "read MovieLens 100K"
    progress(stage, 0, 3)
    rpath = folder / "u.data"
    ratings = read_table(rpath, sep="\t", header=False,
                         names=["user", "item", "rating", "ts"])
    inter, info = _interactions(ratings, rpath, "user", "item", "ts", None, "rating", event="rating")
    progress(stage, 1, 3)
    items = None
    ipath = folder / "u.item"
    if ipath.exists():
        genres = ML100K_GENRES
        gpath = folder / "u.genre"
        if gpath.exists():
            g = read_table(gpath, sep="|", header=False, encoding="latin-1", names=["genre", "idx"])
            idx = pd.to_numeric(g["idx"], errors="coerce")
            if idx.isna().any() or g["genre"].isna().any():
                row = int(np.flatnonzero((idx.isna() | g["genre"].isna()).to_numpy())[0]) + 1
                raise DataError(f"{gpath} line {row} is not 'genre|index' with a whole-number "
                                f"index; expected lines such as 'Action|1'.")
            genres = g.assign(idx=idx).sort_values("idx")["genre"].tolist()
        cols = ["item_id", "title", "release_date", "video_release", "imdb_url"] + genres
        raw = read_table(ipath, sep="|", header=False, encoding="latin-1", names=cols)
        flags = raw[genres].fillna("0").astype(str).eq("1")
        names = np.array(genres, dtype=object)
        genre_lists = ["|".join(names[row]) for row in flags.to_numpy()]
        items = pd.DataFrame({
            "item_id": ids_as_text(raw["item_id"], ipath, 0, "movie id").to_numpy(),
            "title": raw["title"].to_numpy(),
            "category": [g.split("|")[0] if g else "" for g in genre_lists],
            "genres": genre_lists,
            "year": pd.to_datetime(raw["release_date"], format="%d-%b-%Y", errors="coerce")
                      .dt.year.astype("Int64"),
            "imdb_url": raw["imdb_url"].to_numpy(),
        })
    progress(stage, 2, 3)
    users = None
    upath = folder / "u.user"
    if upath.exists():
        raw = read_table(upath, sep="|", header=False, encoding="latin-1",
                         names=["user_id", "age", "gender", "occupation", "zip"])
        raw["user_id"] = ids_as_text(raw["user_id"], upath, 0, "user id")
        raw["age"] = pd.to_numeric(raw["age"], errors="coerce").astype("Int64")
        users = raw
    progress(stage, 3, 3)
    return _dataset(name, inter, info, users, items, source=f"movielens ml-100k {folder}")


def _genre_items(movies: pd.DataFrame, path: Path, id_col, title_col, genres_col) -> pd.DataFrame:
    genres = movies[genres_col].fillna("").astype(str).replace("(no genres listed)", "")
    return pd.DataFrame({
        "item_id": ids_as_text(movies[id_col], path, id_col, "movie id").to_numpy(),
        "title": movies[title_col].astype(object).to_numpy(),
        "category": genres.str.split("|").str[0].fillna("").to_numpy(),
        "genres": genres.to_numpy(),
        "year": _year_from_title(movies[title_col]).reset_index(drop=True),
    })


def _load_ml_latest(folder: Path, name: str, progress: ProgressFn) -> Dataset:
    stage = "read MovieLens (CSV)"
    progress(stage, 0, 2)
    rpath = folder / "ratings.csv"
    ratings = read_table(rpath, sep=",")
    require_columns(ratings, rpath, {"user": "userId", "movie": "movieId", "rating": "rating",
                                     "timestamp": "timestamp"}, sep=",")
    inter, info = _interactions(ratings, rpath, "userId", "movieId", "timestamp", None, "rating",
                                event="rating")
    progress(stage, 1, 2)
    items = None
    mpath = folder / "movies.csv"
    if mpath.exists():
        movies = read_table(mpath, sep=",")
        require_columns(movies, mpath, {"movie": "movieId", "title": "title", "genres": "genres"},
                        sep=",")
        items = _genre_items(movies, mpath, "movieId", "title", "genres")
    progress(stage, 2, 2)
    return _dataset(name, inter, info, None, items, source=f"movielens {folder.name} {folder}")


def _read_dat(path: Path, names: list[str]) -> pd.DataFrame:
    """ml-1m '::' files: pandas needs its slow python engine for a two-character separator,
    so swap '::' for a control character first and use the C parser."""
    text = _existing_file(path).read_bytes().decode("latin-1")
    if not text.strip():
        raise DataError(f"{path} is empty; expected '::'-separated rows.")
    text = text.replace("::", "\x1f")
    try:
        df = pd.read_csv(StringIO(text), sep="\x1f", header=None, names=names, dtype=str,
                         keep_default_na=False, na_values=[""], quoting=csv.QUOTE_NONE,
                         index_col=False)
    except pd.errors.ParserError as exc:
        raise DataError(f"{path} could not be parsed as '::'-separated text ({_first_line(exc)}).") from None
    return df


def _load_ml1m(folder: Path, name: str, progress: ProgressFn) -> Dataset:
    stage = "read MovieLens 1M"
    progress(stage, 0, 3)
    rpath = folder / "ratings.dat"
    ratings = _read_dat(rpath, ["user", "item", "rating", "ts"])
    inter, info = _interactions(ratings, rpath, "user", "item", "ts", None, "rating", event="rating")
    progress(stage, 1, 3)
    items = None
    mpath = folder / "movies.dat"
    if mpath.exists():
        movies = _read_dat(mpath, ["movieId", "title", "genres"])
        items = _genre_items(movies, mpath, "movieId", "title", "genres")
    progress(stage, 2, 3)
    users = None
    upath = folder / "users.dat"
    if upath.exists():
        users = _read_dat(upath, ["user_id", "gender", "age", "occupation", "zip"])
        users["user_id"] = ids_as_text(users["user_id"], upath, 0, "user id")
        users["age"] = pd.to_numeric(users["age"], errors="coerce").astype("Int64")
    progress(stage, 3, 3)
    return _dataset(name, inter, info, users, items, source=f"movielens {folder.name} {folder}")


# --------------------------------------------------------------------------- any CSV / Parquet


def parse_cols(spec) -> list[str] | None:
    """"Title,Company,City" (a --item-cols value) -> ["Title", "Company", "City"]; None stays None.

    Names keep inner spaces, dots and any script ("Job Title", "会社.名"); only the
    spaces around each comma-separated name are removed.
    """
    if spec is None:
        return None
    names = [c.strip() for c in (spec.split(",") if isinstance(spec, str) else spec)]
    names = [c for c in names if c]
    return list(dict.fromkeys(names))


def per_id_values(df: pd.DataFrame, id_col, cols: list) -> tuple[pd.DataFrame, dict[str, int]]:
    """One row per id: for each column its most frequent non-empty value (ties: the first
    seen), and for each column the number of ids whose rows hold more than one value.

    The id column must hold text ids already (``ids_as_text``). Ids and values are
    factorised to integer codes first, so the counting groups integers, not strings.
    """
    id_codes, id_uniq = pd.factorize(df[id_col])
    out = pd.DataFrame({"__id": id_uniq})
    varying: dict[str, int] = {}
    for c in cols:
        vals = df[c]
        if vals.dtype == object or pd.api.types.is_string_dtype(vals):
            vals = vals.astype("string").str.strip()
            vals = vals.where(vals != "")
        v_codes, v_uniq = pd.factorize(vals)  # empty cells get -1
        keep = v_codes >= 0
        counts = (pd.DataFrame({"i": id_codes[keep], "v": v_codes[keep]})
                  .groupby(["i", "v"], sort=False).size().reset_index(name="n"))
        varying[str(c)] = int((counts.groupby("i", sort=False).size() > 1).sum())
        best = counts.sort_values("n", ascending=False, kind="stable").drop_duplicates("i")
        column = pd.Series(pd.NA, index=range(len(id_uniq)), dtype=object)
        column.iloc[best["i"].to_numpy()] = np.asarray(v_uniq, dtype=object)[best["v"].to_numpy()]
        out[c] = column.to_numpy()
    return out, varying


def _metadata(raw: pd.DataFrame, p: Path, id_col, key: str, title_col, cols: list[str] | None,
              role: str, what: str) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """Items (or users) from a file that may hold several rows per id.

    ``cols`` named (--item-cols/--user-cols): exactly those columns (and the title), each
    the most frequent non-empty value of the id's rows. Not named: the title, plus every
    other column whose non-empty value is the same on all rows of each id; columns that
    vary within an id are left out. Returns the frame, the columns left out and the
    columns kept although they vary, each as {column: number of ids where it varies}.
    """
    given = {f"{role} ({c})": c for c in (cols or [])}
    require_columns(raw, p, given)
    ids = ids_as_text(raw[id_col], p, id_col, what)
    frame = raw.drop(columns=[id_col]).copy()
    frame.insert(0, "__key", ids.to_numpy())
    if cols is not None:
        keep = [c for c in dict.fromkeys([*( [title_col] if title_col else []), *cols]) if c != id_col]
    else:
        keep = [c for c in frame.columns if c != "__key"]
    one, varying = per_id_values(frame.rename(columns={"__key": "__kid"}), "__kid", keep)
    dropped = {} if cols is not None else {c: n for c, n in varying.items()
                                           if n and c != str(title_col)}
    # named columns (and the title) that vary: kept, as each id's most frequent value
    varied = {c: n for c, n in varying.items() if n and c not in dropped}
    one = one.drop(columns=[c for c in one.columns if str(c) in dropped])
    rename = {"__id": key}
    if title_col is not None:
        rename[title_col] = "title"
    cat = next((c for c in one.columns if str(c).lower() == "category" and c != title_col), None)
    if cat is not None and key == "item_id":
        rename[cat] = "category"
    fixed = ("item_id", "title", "category") if key == "item_id" else ("user_id",)
    for c in one.columns:
        if c not in rename and c in fixed:
            rename[c] = f"{c}_original"
    return one.rename(columns=rename), dropped, varied


def load_interactions_csv(path, name: str, user_col: str, item_col: str, time_col: str | None = None,
                          event_col: str | None = None, weight_col: str | None = None,
                          items_path=None, item_id_col: str | None = None,
                          title_col: str | None = None, sep: str | None = None,
                          item_cols=None, user_cols=None, time_format: str | None = None,
                          progress: ProgressFn = null_progress) -> Dataset:
    """Interactions from a CSV or Parquet file (.parquet/.pq), plain or gzip/zip/bz2/xz
    compressed (``.csv.gz``, ``.csv.zip``...), with a column mapping.

    Columns are names, or -- for a text file without a header -- all 0-based numbers
    (``user_col="0", item_col="1"``).

    ``time_col``: unix seconds/ms/us, ISO dates, a trailing zone name, other layouts
    pandas can guess (see ``parse_timestamps``); ``time_format`` (a strftime format)
    settles mixed or day/month-ambiguous columns.
    ``event_col``: the event type (empty cells -> "interaction"); without it every row is
    an "interaction". ``weight_col``: numeric; without it the weight follows the event
    (``DEFAULT_EVENT_WEIGHTS``, else 1).

    Item metadata: ``items_path`` is an items file (CSV or Parquet; may be the
    interactions file itself) keyed by ``item_id_col`` (default: ``item_col``) with titles
    in ``title_col``. ``item_cols`` ("Title,Company,City" or a list) names the metadata
    columns: each item gets the most frequent non-empty value of its rows. Without
    ``item_cols`` the title and every column that is constant within each item are kept;
    columns that vary within an item (a viewer's id, a view time) are dropped and listed
    in ``info["item_cols_dropped"]`` ({column: items where it varies}). Giving
    ``item_cols`` or ``title_col`` without ``items_path`` reads them from the interactions
    file. A column named "category" (any case) becomes the category.
    ``user_cols`` likewise names user metadata columns of the interactions file.

    Duplicate events (same user, item, event, timestamp) are collapsed, keeping the
    first, and counted in ``info["duplicates_collapsed"]``.
    """
    item_cols, user_cols = parse_cols(item_cols), parse_cols(user_cols)
    stage = "read interactions"
    with_items = items_path is not None or item_cols is not None or title_col is not None
    progress(stage, 0, 2 if with_items else 1)
    p = _existing_file(path)
    df, cols = read_mapped(p, sep, {"--user-col": user_col, "--item-col": item_col,
                                    "--time-col": time_col, "--event-col": event_col,
                                    "--weight-col": weight_col})
    inter, info = _interactions(df, p, *cols.values(), time_format=time_format)
    progress(stage, 1, 2 if with_items else 1)
    items = users = None
    if with_items:
        if items_path is not None and Path(items_path).resolve() != p.resolve():
            ip = _existing_file(items_path, "items file")
            raw = read_table(ip, sep=sep)
        else:
            ip, raw = p, df
        id_col = item_id_col or item_col
        require_columns(raw, ip, {"--item-id-col": id_col, "--title-col": title_col}, sep=sep)
        items, dropped, varied = _metadata(raw, ip, id_col, "item_id", title_col, item_cols,
                                           "--item-cols", "item id")
        if dropped:
            info["item_cols_dropped"] = dropped
        if varied:
            info["item_cols_varying"] = varied
        progress(stage, 2, 2)
    if user_cols is not None:
        users, _, varied = _metadata(df, p, cols["--user-col"], "user_id", None, user_cols,
                                     "--user-cols", "user id")
        if varied:
            info["user_cols_varying"] = varied
    return _dataset(name, inter, info, users, items, source=f"csv {p}")


def _counted(cols: dict[str, int], noun: str) -> str:
    names = list(cols)
    shown = ", ".join(f"{c!r} ({cols[c]:,} {noun}{'' if cols[c] == 1 else 's'})" for c in names[:6])
    return shown + (f" and {len(names) - 6:,} more columns" if len(names) > 6 else "")


def varying_note(info: dict, noun: str = "item") -> str | None:
    """One line naming the metadata columns kept although they vary within an id, or None."""
    varied = info.get(f"{noun}_cols_varying") or {}
    if not varied:
        return None
    verb = "differs" if len(varied) == 1 else "differ"
    return (f"{noun} metadata: {_counted(varied, noun)} {verb} within some {noun}s' rows; each "
            f"{noun} got its most frequent non-empty value.")


def dropped_note(info: dict, noun: str = "item") -> str | None:
    """One line saying which metadata columns were left out and why, or None."""
    dropped = info.get(f"{noun}_cols_dropped") or {}
    if not dropped:
        return None
    shown = _counted(dropped, noun)
    return (f"{noun} metadata: left out {shown}: their value varies within an {noun}'s rows; "
            f"name the columns to keep with --{noun}-cols.")


# --------------------------------------------------------------------------- reviews


def parse_votes(expr: str) -> tuple[list[str], list[str]]:
    """"Toxic+Very Toxic>Not Toxic" -> (["Toxic", "Very Toxic"], ["Not Toxic"])."""
    parts = expr.split(">")
    lhs, rhs = ([c.strip() for c in side.split("+")] for side in parts) if len(parts) == 2 else ([], [])
    if not lhs or not rhs or "" in lhs or "" in rhs:
        raise DataError(f"--label-from-votes {expr!r} is not of the form 'A+B>C' "
                        f"(label 1 when the votes in columns A and B outnumber those in C).")
    return lhs, rhs


def _labels(s: pd.Series, path: Path, col) -> pd.Series:
    text = s.astype("string").str.strip().str.lower()
    mapped = text.map(LABEL_VALUES)
    bad = text.notna() & (text != "") & mapped.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{path} row {i + 1} has the label {str(s.iloc[i])!r} in column {col!r}; "
                        f"expected 1/0, true/false, spam/ham or yes/no.")
    return pd.array(mapped.to_numpy(dtype=object), dtype="Int64")


def _one_review_file(p: Path, text_col, label_col, sep, id_col, time_col, votes, prefix: str,
                     time_format: str | None = None) -> pd.DataFrame:
    vote_cols = {f"--label-from-votes ({c})": c for c in (votes[0] + votes[1])} if votes else {}
    df, cols = read_mapped(p, sep, {"--text-col": text_col, "--label-col": label_col,
                                    "--id-col": id_col, "--time-col": time_col, **vote_cols},
                           extra_hint="; if the file has no header, give 0-based column numbers "
                                      "instead (e.g. --text-col 1 --label-col 0)")
    headerless = all(isinstance(c, int) for c in cols.values() if c is not None)
    text_col, label_col, id_col, time_col = (cols["--text-col"], cols["--label-col"],
                                             cols["--id-col"], cols["--time-col"])
    out = pd.DataFrame(index=df.index)
    if id_col is not None:
        ids = ids_as_text(df[id_col], p, id_col, "review id")
    else:
        ids = pd.Series([str(i + 1) for i in range(len(df))], index=df.index, dtype=object)
    out["review_id"] = (prefix + ids).to_numpy() if prefix else ids.to_numpy()
    out["text"] = df[text_col].fillna("").astype(str).to_numpy()
    if label_col is not None:
        out["label"] = _labels(df[label_col], p, label_col)
    elif votes:
        lhs, rhs = (sum(_numbers(df[k].fillna("0"), p, k, "vote") for k in keys)
                    for keys in ([cols[f"--label-from-votes ({c})"] for c in side] for side in votes))
        out["label"] = pd.array((lhs > rhs).astype(int).to_numpy(), dtype="Int64")
    if time_col is not None:
        out["created_at"] = parse_timestamps(df[time_col], p, time_col, time_format).to_numpy()
    used = {c for c in (text_col, label_col, id_col, time_col) if c is not None}
    for c in df.columns:
        if c in used:
            continue
        key = f"col{c}" if headerless else str(c)
        out[f"{key}_original" if key in out.columns or key in ("review_id", "text", "label",
                                                               "created_at") else key] = df[c].to_numpy()
    return out


def load_reviews(path, name: str, text_col, label_col=None, sep: str | None = None, id_col=None,
                 label_from_votes: str | None = None, time_col=None,
                 time_format: str | None = None, progress: ProgressFn = null_progress) -> Dataset:
    """Reviews from a CSV/TSV file, or from every .csv/.tsv file of a folder (concatenated);
    files may be compressed (.csv.gz, .tsv.zip).

    Columns are names when the file has a header. A file without a header (such as the
    SMS Spam Collection) is read by giving every column as a 0-based number instead,
    e.g. ``sep="\\t", text_col=1, label_col=0``: numbers mean "no header".

    Labels (``label_col``): 1/0, true/false, spam/ham, yes/no in any case -> 1/0; an empty
    cell -> unknown (<NA>); anything else is an error naming the row. Or, instead,
    ``label_from_votes="Toxic+Very Toxic>Not Toxic"``: label 1 when the votes summed over
    the left-hand columns outnumber those summed over the right (empty cells count 0).

    Review ids come from ``id_col`` (else the row number from 1). Files of a folder get
    their ids prefixed with the file stem ("Youtube01-Psy/<id>"). An id repeated within
    one source gets "#2", "#3"... appended so that every review keeps its own id; how
    many were renamed is in ``info["duplicate_ids_renamed"]``. ``time_col`` fills
    ``created_at`` (read like interaction times, ``time_format`` included). Every other
    column is kept as display metadata.
    """
    p = Path(path)
    votes = parse_votes(label_from_votes) if label_from_votes else None
    if votes and label_col is not None:
        raise DataError("Give either --label-col or --label-from-votes, not both.")
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if _base_suffix(f) in (".csv", ".tsv") and f.is_file())
        if not files:
            raise DataError(f"The folder {p} holds no .csv or .tsv files.")
    else:
        files = [_existing_file(p)]
    stage = "read reviews"
    frames = []
    for i, f in enumerate(files):
        progress(stage, i, len(files))
        prefix = f"{f.stem}/" if p.is_dir() else ""
        frames.append(_one_review_file(f, text_col, label_col, sep, id_col, time_col, votes, prefix,
                                       time_format))
    progress(stage, len(files), len(files))
    reviews = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    occurrence = reviews.groupby("review_id", sort=False).cumcount()
    renamed = int((occurrence > 0).sum())
    if renamed:
        reviews["review_id"] = np.where(occurrence > 0,
                                        reviews["review_id"] + "#" + (occurrence + 1).astype(str),
                                        reviews["review_id"])
    if "label" not in reviews.columns:
        reviews["label"] = pd.array([pd.NA] * len(reviews), dtype="Int64")
    empty = pd.DataFrame({"user_id": pd.Series([], dtype=object), "item_id": pd.Series([], dtype=object)})
    info = {"duplicate_ids_renamed": renamed, "n_files": len(files)}
    return Dataset(name=name, interactions=empty, users=None, items=None, reviews=reviews,
                   source=f"reviews {p}", info=info)
