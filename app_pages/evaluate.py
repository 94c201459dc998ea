"""Evaluate: where is the model wrong? Metrics, a clickable confusion matrix, the misclassified crops with
one-click relabelling, calibration, and a before/after comparison of two model versions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages._shell import current_document_id, store, tr
from kuzushi_core.data.datasets import load_kmnist
from kuzushi_core.errors import KuzushiError
from kuzushi_core.evaluation.review import (
    Evaluation,
    accuracy_by_kind,
    compare,
    evaluate_glyphs,
    evaluate_workspace,
    label_kinds,
)
from kuzushi_core.paths import data_dir
from kuzushi_core.predict.reading import loaded

s = store()
st.title(tr("eval.title"))
if "eval_flash" in st.session_state:
    st.success(st.session_state.pop("eval_flash"))
models = s.list_models()
if not models:
    st.warning(tr("read.no_model"))
    st.stop()
names = {m.id: m.name for m in models}
active = s.active_model()
ids = [m.id for m in reversed(models)]
WS, KM = "workspace", "kmnist"
c1, c2, c3 = st.columns(3)
model_id = c1.selectbox(tr("eval.model"), ids, index=ids.index(active.id) if active else 0, key="eval_model",
                        format_func=lambda i, n=names: f"#{i} {n[i]}")
sources = [WS] + ([KM] if (data_dir() / "kmnist").exists() else [])
source = c2.selectbox(tr("eval.set"), sources, key="eval_set",
                      format_func=lambda v, a=tr("eval.set.workspace"), b=tr("eval.set.kmnist"): a if v == WS else b)
other = c3.selectbox(tr("eval.compare_with"), [0] + [i for i in ids if i != model_id], key="eval_other",
                     format_func=lambda i, n=names, none=tr("eval.none"): none if i == 0 else f"#{i} {n[i]}")
doc = current_document_id()
scan_ids = {sc.id for sc in s.list_scans(doc)} if doc else None
stamp = (s.count_labels(), sum(s.label_counts().values()), tuple(sorted(scan_ids or ())))


@st.cache_data(max_entries=6, show_spinner=False)
def evaluation(root: str, mid: int, src: str, stamp: tuple) -> Evaluation:
    """Cached per model, set and label state (labels are append-only: their count changes with every edit)."""
    from kuzushi_core.store import Store

    st_ = Store(root, create=False)
    lm = loaded(st_.get_model(mid))
    if src == KM:
        test = load_kmnist(data_dir() / "kmnist", "test")
        return evaluate_glyphs(lm, test.images, [test.classes[i] for i in test.labels])
    return evaluate_workspace(st_, lm, set(stamp[2]) or None)


try:
    with st.spinner(tr("eval.running")):
        ev = evaluation(str(s.root), model_id, source, stamp)
        ev_other = evaluation(str(s.root), other, source, stamp) if other else None
except KuzushiError as exc:
    st.error(str(exc))
    st.stop()
if not ev.items:
    st.info(tr("eval.no_labels"))
    st.stop()

rep = ev.report
m = st.columns(6)
m[0].metric(tr("eval.accuracy"), f"{rep['accuracy']:.3f}")
m[1].metric(tr("eval.in_vocab"), f"{rep['accuracy_in_vocabulary']:.3f}", help=tr("eval.in_vocab_help"))
m[2].metric("macro F1", f"{rep['macro']['f1']:.3f}")
m[3].metric("weighted F1", f"{rep['weighted']['f1']:.3f}")
m[4].metric(tr("eval.n"), rep["n"])
m[5].metric(tr("eval.oov"), ev.out_of_vocabulary, help=tr("eval.oov_help"))
by_kind = accuracy_by_kind(ev, label_kinds(s, [it.box_id for it in ev.items if it.box_id is not None]))
if by_kind:
    k = st.columns(len(by_kind))
    for col, (kind, (acc, n)) in zip(k, by_kind.items()):
        col.metric(tr(f"eval.kind.{kind}", n=n), f"{acc:.3f}")
    st.caption(tr("eval.kind_help"))
if ev.pairs:
    st.caption(tr("eval.pairs") + " " + " · ".join(f"{a}→{b} ×{n}" for a, b, n in ev.pairs[:8]))

left, right = st.columns([3, 2])
with left:
    st.subheader(tr("eval.confusion"))
    cm = np.array(rep["confusion"])
    shown = [i for i in range(len(ev.classes)) if cm[i].sum() or cm[:, i].sum()]
    xs, ys, zs, custom, colors = [], [], [], [], []
    for i in shown:
        for j in shown:
            if cm[i, j]:
                xs.append(ev.classes[j])
                ys.append(ev.classes[i])
                zs.append(int(cm[i, j]))
                custom.append([ev.classes[i], ev.classes[j]])
                colors.append("#2ca02c" if i == j else "#d62728")
    size = max(8, min(32, 360 // max(len(shown), 1)))
    fig = go.Figure(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=zs, customdata=custom, textfont=dict(color="white", size=11),
        marker=dict(symbol="square", size=size, color=colors,
                    opacity=[0.35 + 0.65 * min(1.0, z / max(max(zs), 1)) ** 0.5 for z in zs]),
        hovertemplate=tr("eval.cell_hover") + "<extra></extra>",
    ))
    order = [ev.classes[i] for i in shown]
    fig.update_xaxes(title=tr("eval.predicted"), categoryorder="array", categoryarray=order, side="top",
                     tickfont=dict(size=14))
    fig.update_yaxes(title=tr("eval.true"), categoryorder="array", categoryarray=order[::-1], tickfont=dict(size=14))
    fig.update_layout(height=max(320, 34 * len(shown) + 120), margin=dict(l=10, r=10, t=40, b=10),
                      clickmode="event+select", dragmode=False)
    event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key="eval_cm",
                            use_container_width=True)
    picked = (event or {}).get("selection", {}).get("points", []) if event else []
    if picked:
        st.session_state["eval_cell"] = tuple(picked[0]["customdata"])
with right:
    st.subheader(tr("eval.per_class"))
    per = pd.DataFrame([{"char": c, **v} for c, v in rep["per_class"].items() if v["support"] or v["precision"]])
    st.dataframe(per.round(3), hide_index=True, height=300, use_container_width=True)
    if ev.reliability:
        rel = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"),
                                    name=tr("eval.ideal")),
                         go.Scatter(x=[b["confidence"] for b in ev.reliability],
                                    y=[b["accuracy"] for b in ev.reliability], mode="lines+markers",
                                    text=[b["n"] for b in ev.reliability], name=tr("eval.model"))])
        rel.update_layout(height=240, margin=dict(l=10, r=10, t=30, b=10), title=f"{tr('eval.reliability')} "
                          f"(ECE {ev.ece:.3f})", xaxis_title=tr("eval.confidence"), yaxis_title=tr("eval.accuracy"))
        st.plotly_chart(rel, key="eval_rel", use_container_width=True)

st.divider()
cell = st.session_state.get("eval_cell")
if cell and cell[0] in ev.classes:
    items = ev.cell(*cell)
    h = st.columns([4, 1])
    h[0].subheader(tr("eval.cell_title", true=cell[0], pred=cell[1], n=len(items)))
    if h[1].button(tr("eval.clear"), key="eval_clear"):
        st.session_state.pop("eval_cell", None)
        st.rerun()
else:
    items = ev.misclassified()
    st.subheader(tr("eval.gallery", n=len(items)))


def relabel(box_id: int, char: str) -> None:
    s.add_label(box_id, char, source="user")
    st.session_state["eval_flash"] = tr("read.saved", id=box_id, char=char)


def gallery(items, glyphs: np.ndarray, key: str, limit: int = 24) -> None:
    cols = st.columns(6)
    for n, it in enumerate(items[:limit]):
        with cols[n % 6].container(border=True):
            st.image(np.kron(glyphs[it.index], np.ones((3, 3), np.uint8)), width=84)
            st.markdown(f"**{it.truth}** → {it.predicted}")
            st.caption(" · ".join(f"{c} {p:.2f}" for c, p in it.top3))
            if it.box_id is None:
                continue
            b = it.box_id
            new = st.text_input(tr("eval.fix"), key=f"{key}_fix_{b}", max_chars=4, label_visibility="collapsed",
                                placeholder=tr("eval.fix"))
            a, c, d = st.columns(3)
            if a.button("✓", key=f"{key}_save_{b}", help=tr("eval.save_help")) and new.strip():
                relabel(b, new.strip())
                st.rerun()
            if c.button(it.predicted, key=f"{key}_take_{b}", help=tr("eval.take_help")):
                relabel(b, it.predicted)
                st.rerun()
            if d.button("✕", key=f"{key}_remove_{b}", help=tr("eval.remove_help")):
                s.add_box_flag(b, "excluded")
                st.session_state["eval_flash"] = tr("eval.removed", id=b)
                st.rerun()
            if st.button(tr("eval.on_page"), key=f"{key}_page_{b}"):
                st.session_state["read_scan"] = it.scan_id
                st.session_state["read_box"] = b
                st.switch_page("app_pages/read.py")


if items:
    gallery(items, ev.glyphs, "eval")
else:
    st.info(tr("eval.none_wrong"))

if ev_other is not None:
    st.divider()
    st.subheader(tr("eval.versions", a=names[model_id], b=names[other]))
    diff = compare(ev_other, ev)  # from the other (older) version to the chosen one
    st.caption(tr("eval.versions_counts", fixed=len(diff["fixed"]), broke=len(diff["broke"]),
                  both=len(diff["both_wrong"])))
    t1, t2 = st.tabs([tr("eval.fixed"), tr("eval.broke")])
    with t1:
        gallery([ev.items[i] for i in diff["fixed"]], ev.glyphs, "fixed", 12)
    with t2:
        gallery([ev.items[i] for i in diff["broke"]], ev.glyphs, "broke", 12)
