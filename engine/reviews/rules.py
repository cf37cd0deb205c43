"""Rule signals beside the classifier: cheap, explainable facts about each review.

``rule_features(texts)`` returns one row per review with numeric signals (they also feed
the classifier, which learns how much each matters on a dataset) and ``rule_reasons``
turns a row into the reasons a person reads (code + one sentence). Duplicates are
dataset-wide: exact (same text after NFKC, case and punctuation folding) and near
(cosine similarity of character 3-gram TF-IDF vectors, via scikit-learn's
NearestNeighbors).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np
import pandas as pd

from engine.reviews.text import dedup_key, normalise_text

URL_RE = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|jp|co|ly|io|info|biz|me|tv)(?:/\S*)?\b",
                    re.IGNORECASE)
EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Phone numbers: +44 7935 454150, 090-1234-5678, (03) 1234-5678, 0120123456 ...
PHONE_RE = re.compile(r"(?<!\w)(?:\+\d{1,3}[\s-]?)?(?:\(?\d{2,5}\)?[\s-]?)\d{2,4}[\s-]?\d{3,4}(?!\w)")

#: Thresholds above which a signal becomes a reason shown to a person.
REPEAT_RATIO = 0.5       # one character makes up at least half of the text
REPEAT_RUN = 6           # or the same character 6+ times in a row
SHORT_LEN = 4            # at most this many non-space characters
LONG_LEN = 2000
SYMBOL_RATIO = 0.4
SCRIPT_SHARE = 0.2       # under 20% of the dataset's main script
NEAR_DUP_SIM = 0.9
NEAR_DUP_MIN_LEN = 15

FEATURE_COLUMNS = ["repeat_ratio", "longest_run", "log_length", "is_short", "has_url", "has_email",
                   "has_phone", "symbol_ratio", "main_script_share", "script_switches",
                   "exact_dups", "near_dup_sim"]


def _script(ch: str) -> str:
    o = ord(ch)
    if 0x3040 <= o <= 0x309F:
        return "hiragana"
    if 0x30A0 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF:
        return "katakana"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
        return "han"
    cat = unicodedata.category(ch)
    if cat.startswith("L"):
        name = unicodedata.name(ch, "")
        if name.startswith("LATIN"):
            return "latin"
        if name.startswith("CYRILLIC"):
            return "cyrillic"
        if name.startswith("HANGUL"):
            return "hangul"
        return "other_letter"
    if cat.startswith("N"):
        return "digit"
    return "symbol"


#: Scripts grouped into the families a reader recognises (Japanese mixes three scripts).
FAMILY = {"hiragana": "japanese", "katakana": "japanese", "han": "japanese", "latin": "latin",
          "cyrillic": "cyrillic", "hangul": "hangul", "other_letter": "other"}


def _one(text: str) -> dict:
    norm = normalise_text(text)
    chars = [c for c in norm if c != " "]
    n = len(chars)
    counts = Counter(chars)
    top = counts.most_common(1)[0][1] if n else 0
    run = best = 0
    prev = None
    for c in chars:
        run = run + 1 if c == prev else 1
        best = max(best, run)
        prev = c
    scripts = [_script(c) for c in chars]
    letters = [s for s in scripts if s in FAMILY]
    fam = Counter(FAMILY[s] for s in letters)
    switches = sum(1 for a, b in zip(letters, letters[1:]) if a != b)
    symbols = sum(1 for s in scripts if s == "symbol")
    return {
        "n_chars": n,
        "repeat_ratio": top / n if n else 0.0,
        "longest_run": best,
        "top_char": counts.most_common(1)[0][0] if n else "",
        "url": bool(URL_RE.search(norm)),
        "email": bool(EMAIL_RE.search(norm)),
        "phone": bool(PHONE_RE.search(norm)),
        "symbol_ratio": symbols / n if n else 0.0,
        "families": dict(fam),
        "n_letters": len(letters),
        "script_switches": switches / max(len(letters) - 1, 1),
    }


def _near_duplicates(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each review's highest cosine similarity to another review, and that review's position."""
    # scikit-learn takes about a second to import: loaded only when reviews are checked
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    n = len(texts)
    sim = np.zeros(n)
    other = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return sim, other
    vec = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), preprocessor=normalise_text,
                          lowercase=False, min_df=1)
    try:
        X = vec.fit_transform(texts)
    except ValueError:  # every text shorter than 3 characters
        return sim, other
    nn = NearestNeighbors(n_neighbors=2, metric="cosine", algorithm="brute").fit(X)
    dist, idx = nn.kneighbors(X)
    for i in range(n):
        # the nearest is usually the review itself; take the first that is not
        for d, j in zip(dist[i], idx[i]):
            if j != i:
                sim[i] = 1.0 - d
                other[i] = j
                break
    return sim, other


def rule_signals(reviews: pd.DataFrame) -> pd.DataFrame:
    """Per review (same order as ``reviews``, which needs ``review_id`` and ``text``):
    the numeric ``FEATURE_COLUMNS`` plus what the reasons need (duplicate ids, top char)."""
    texts = reviews["text"].fillna("").astype(str).tolist()
    ids = reviews["review_id"].astype(str).tolist()
    rows = [_one(t) for t in texts]
    sig = pd.DataFrame(rows, index=reviews.index)

    # The dataset's main script family: off-topic text often comes in another one.
    total = Counter()
    for r in rows:
        total.update(r["families"])
    main = total.most_common(1)[0][0] if total else "latin"
    sig["main_script"] = main
    sig["main_script_share"] = [r["families"].get(main, 0) / r["n_letters"] if r["n_letters"] else 0.0
                                for r in rows]

    keys = [dedup_key(t) for t in texts]
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        if k:
            groups.setdefault(k, []).append(i)
    sig["exact_dups"] = [len(groups.get(k, [])) - 1 if k else 0 for k in keys]
    sig["dup_of"] = [next((ids[j] for j in groups.get(k, []) if j != i), None) if k else None
                     for i, k in enumerate(keys)]

    sim, other = _near_duplicates(texts)
    sig["near_dup_sim"] = sim
    sig["near_dup_of"] = [ids[j] if j >= 0 else None for j in other]

    sig["log_length"] = np.log1p(sig["n_chars"])
    sig["is_short"] = (sig["n_chars"] <= SHORT_LEN).astype(float)
    sig["has_url"] = sig["url"].astype(float)
    sig["has_email"] = sig["email"].astype(float)
    sig["has_phone"] = sig["phone"].astype(float)
    sig["longest_run"] = np.log1p(sig["longest_run"].astype(float))
    sig["exact_dups"] = sig["exact_dups"].astype(float)
    sig["raw_longest_run"] = [r["longest_run"] for r in rows]
    return sig


def rule_reasons(row) -> list[dict]:
    """The reasons a person reads for one row of ``rule_signals``: [{code, text}, ...]."""
    out: list[dict] = []
    n = int(row["n_chars"])
    if n >= 3 and (row["repeat_ratio"] >= REPEAT_RATIO or row["raw_longest_run"] >= REPEAT_RUN):
        out.append({"code": "repeated_chars",
                    "text": f"one character ({row['top_char']!r}) makes up {row['repeat_ratio']:.0%} "
                            f"of the text; longest run {int(row['raw_longest_run'])}"})
    if n <= SHORT_LEN:
        out.append({"code": "too_short", "text": f"only {n} non-space characters"})
    elif n >= LONG_LEN:
        out.append({"code": "too_long", "text": f"{n} characters"})
    if row["has_url"]:
        out.append({"code": "url", "text": "contains a URL"})
    if row["has_email"]:
        out.append({"code": "email", "text": "contains an e-mail address"})
    if row["has_phone"]:
        out.append({"code": "phone", "text": "contains a phone number"})
    if n >= 3 and row["symbol_ratio"] >= SYMBOL_RATIO:
        out.append({"code": "symbols", "text": f"{row['symbol_ratio']:.0%} of characters are symbols"})
    if row["n_letters"] >= 5 and row["main_script_share"] < SCRIPT_SHARE:
        out.append({"code": "script_mix",
                    "text": f"only {row['main_script_share']:.0%} of letters in the dataset's main "
                            f"script ({row['main_script']})"})
    if row["exact_dups"] > 0:
        out.append({"code": "exact_duplicate",
                    "text": f"same text as {int(row['exact_dups'])} other review(s), e.g. {row['dup_of']}"})
    elif row["near_dup_sim"] >= NEAR_DUP_SIM and n >= NEAR_DUP_MIN_LEN:
        out.append({"code": "near_duplicate",
                    "text": f"{row['near_dup_sim']:.0%} similar to review {row['near_dup_of']}"})
    return out
