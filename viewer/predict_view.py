"""The Predictions page's logic: funnel models of a dataset, their metrics against the
baselines, reliability, lift, segments, feature importance, a user x item look-up and
the runs re-ranked by a model. Reads through ``viewer.db.read``; no SQL here."""

from __future__ import annotations

import math
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from engine.errors import RecscopeError
from engine.services import predict as P
from viewer import db
from viewer.components import bound_select
from viewer.format import MISSING

DASH = MISSING  # one em dash for every missing value (engine.report.text)


def _num(v, spec: str = ".4f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return DASH
    return format(v, spec)


def models(dataset: str) -> list[dict]:
    return db.read(P.models, dataset)


def model_label(m: dict) -> str:
    return f"#{m['model_id']} {m['kind']} P({m['target']} | {m['given']})"


def pick_model(dataset: str, rows: list[dict]) -> int:
    ids = [m["model_id"] for m in rows]
    labels = {m["model_id"]: model_label(m) for m in rows}
    return bound_select("Model", ids, "model", ids[-1], "a model of this dataset", key="_pred_model",
                        cast=int, format_func=lambda i: labels.get(i, str(i)))


def models_table(rows: list[dict]) -> None:
    """Every model with its test metrics beside the two baselines (and the truth)."""
    table = pd.DataFrame({
        "Model": [model_label(m) for m in rows],
        "ROC-AUC": [_num(m.get("roc_auc")) for m in rows],
        "Item-rate AUC": [_num(m.get("baselines", {}).get("item_rate")) for m in rows],
        "User-rate AUC": [_num(m.get("baselines", {}).get("user_rate")) for m in rows],
        "Oracle AUC": [_num(m.get("oracle_roc_auc")) for m in rows],
        "PR-AUC": [_num(m.get("pr_auc")) for m in rows],
        "Log loss": [_num(m.get("log_loss")) for m in rows],
        "Brier": [_num(m.get("brier")) for m in rows],
        "ECE": [_num(m.get("ece")) for m in rows],
        "Base rate": [_num(m.get("base_rate")) for m in rows],
        "Train / test": [f"{m.get('n_train', 0):,} / {m.get('n_test', 0):,}" for m in rows],
    })
    st.dataframe(table, hide_index=True, use_container_width=True)


def detail(model_id: int) -> dict:
    return db.read(P.model_detail, model_id)


def reliability_chart(d: dict) -> None:
    r = pd.DataFrame(d["metrics"]["reliability"])
    top = float(max(r["mean_predicted"].max(), r["observed_rate"].max()) * 1.1)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="perfect calibration",
                             line=dict(dash="dash", color="#999")))
    fig.add_trace(go.Scatter(x=r["mean_predicted"], y=r["observed_rate"], mode="lines+markers",
                             name="model", text=[f"{n:,} rows" for n in r["n"]],
                             hovertemplate="predicted %{x:.3f}<br>observed %{y:.3f}<br>%{text}"))
    fig.update_layout(title=f"Reliability (15 equal-count bins), ECE {_num(d['metrics'].get('ece'))}",
                      xaxis_title="mean predicted probability", yaxis_title="observed rate",
                      height=380, margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(fig, use_container_width=True, key="reliability")
    st.caption("Rows per bin: " + ", ".join(f"{n:,}" for n in r["n"]))


def lift_chart(d: dict) -> None:
    m = d["metrics"]
    fig = go.Figure()
    for name, table in [("model", m["lift"])] + list(m.get("lift_baselines", {}).items()):
        t = pd.DataFrame(table)
        fig.add_trace(go.Scatter(x=[0] + t["decile"].tolist(), y=[0] + t["cumulative_gain"].tolist(),
                                 mode="lines+markers", name=name.replace("_", " ")))
    fig.add_trace(go.Scatter(x=[0, 10], y=[0, 1], mode="lines", name="random", line=dict(dash="dash", color="#999")))
    fig.update_layout(title="Cumulative gain by decile of score", xaxis_title="top deciles",
                      yaxis_title="share of positives", height=380, margin=dict(l=10, r=10, t=40, b=10))
    st.plotly_chart(fig, use_container_width=True, key="gain")
    t = pd.DataFrame(m["lift"])
    st.dataframe(pd.DataFrame({"Decile": t["decile"], "Rows": t["n"], "Positives": t["positives"].astype(int),
                               "Rate": [_num(v) for v in t["rate"]], "Lift": [_num(v, ".2f") for v in t["lift"]]}),
                 hide_index=True, use_container_width=True)


def segments(d: dict) -> None:
    segs = d["metrics"].get("segments", {})
    if not segs:
        st.caption("No segments.")
        return
    name = st.radio("Segment by", list(segs), horizontal=True, key="_pred_segment")
    t = pd.DataFrame(segs[name])
    st.dataframe(pd.DataFrame({"Segment": t["segment"], "Rows": t["n"], "Positives": t["positives"],
                               "Model AUC": [_num(v) for v in t["roc_auc"]],
                               "Item-rate AUC": [_num(v) for v in t["item_rate"]],
                               "User-rate AUC": [_num(v) for v in t["user_rate"]]}),
                 hide_index=True, use_container_width=True)


def importance(d: dict) -> None:
    imp = pd.DataFrame([{"feature": f, "gain": v.get("gain"), "permutation": v.get("permutation")}
                        for f, v in d["importance"].items()])
    imp = imp.sort_values("permutation", ascending=True)
    fig = go.Figure()
    if imp["gain"].notna().any():
        fig.add_trace(go.Bar(y=imp["feature"], x=imp["gain"], orientation="h", name="gain (share)"))
    fig.add_trace(go.Bar(y=imp["feature"], x=imp["permutation"], orientation="h",
                         name="permutation (AUC drop)"))
    fig.update_layout(barmode="group", height=max(300, 22 * len(imp)), margin=dict(l=10, r=10, t=30, b=10),
                      title="Feature importance")
    st.plotly_chart(fig, use_container_width=True, key="importance")


def lookup(dataset: str, model_id: int) -> None:
    """A user x item look-up: the predicted probability and each feature's contribution."""
    cols = st.columns(2)
    user = cols[0].text_input("User id", value=st.query_params.get("user", ""), key="_pred_user")
    item = cols[1].text_input("Item id", value=st.query_params.get("item", ""), key="_pred_item")
    if user:
        st.query_params["user"] = user
    if item:
        st.query_params["item"] = item
    if not (user and item):
        st.caption("Give a user id and an item id to see the model's probability and why.")
        return
    try:
        out = db.read(P.explain_pair, model_id, user.strip(), item.strip())
    except RecscopeError as exc:
        st.warning(str(exc), icon=":material/warning:")
        return
    st.metric("Predicted probability (calibrated)", _num(out["probability"]))
    c = out["contributions"]
    st.dataframe(pd.DataFrame({"Feature": c["feature"],
                               "Value": [DASH if v is None or (isinstance(v, float) and math.isnan(v)) else
                                         (_num(v, ".3f") if isinstance(v, float) else str(v)) for v in c["value"]],
                               "Contribution (log-odds)": [_num(v, "+.3f") for v in c["contribution"]]}),
                 hide_index=True, use_container_width=True)
    if out["bias"] is not None:
        st.caption(f"Contributions add to the model's log-odds before calibration, with the bias "
                   f"{out['bias']:+.3f}.")


def rerank_links(dataset: str, model_id: int) -> None:
    """The runs re-ranked by this model, each with a link to compare it with its source."""
    rr = db.read(P.rerank_runs, dataset)
    rr = rr[(rr["model"] == model_id) | (rr["hire_model"] == model_id)]
    if rr.empty:
        st.caption(f"No run re-ranked by this model yet: `recscope predict rerank RUN_ID --model {model_id}`.")
        return
    for r in rr.itertuples():
        q = urlencode({"dataset": dataset, "runs": f"{int(r.source_run)},{int(r.run_id)}"})
        st.markdown(f"- Run #{r.run_id}: run #{r.source_run} re-ranked (top {r.candidates} candidates) "
                    f"— [compare with its source](compare?{q}) · [runs](runs?{urlencode({'dataset': dataset})})")


def model_href(dataset: str, model_id: int) -> str:
    return "predictions?" + urlencode({"dataset": dataset, "model": int(model_id)})


def run_model_links(dataset: str, runs: pd.DataFrame, run_ids: list[int]) -> None:
    """For each chosen re-ranked run: its source run and a link to its model(s)."""
    import json

    chosen = runs[runs["run_id"].isin([int(r) for r in run_ids]) & (runs["algorithm"] == "rerank")]
    for r in chosen.itertuples():
        p = json.loads(r.params) if isinstance(r.params, str) and r.params else {}
        if "model" not in p:
            continue
        models_ = [f"[model #{p['model']}]({model_href(dataset, p['model'])})"]
        if p.get("hire_model") is not None:
            models_.append(f"[hire model #{p['hire_model']}]({model_href(dataset, p['hire_model'])})")
        st.caption(f"Run #{r.run_id} re-ranks run #{p.get('source_run', DASH)}'s top "
                   f"{p.get('candidates', DASH)} by " + " and ".join(models_) + ".")
