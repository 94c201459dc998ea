"""Evaluate: where is the model wrong? Metrics, a clickable confusion matrix, the misclassified crops with
one-click relabelling, calibration, and a before/after comparison of two model versions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages._shell import current_document_id, flash, store, tr, user_name, who_label
from kuzushi_core.data.datasets import load_kmnist
from kuzushi_core.errors import KuzushiError
from kuzushi_core.evaluation.review import (
    Evaluation,
    accuracy_by_kind,
    compare,
    evaluate_glyphs,
    evaluate_workspace,
    label_kinds,
    to_confirm,
)
from kuzushi_core.paths import data_dir
from kuzushi_core.predict.reading import loaded

s = store()
st.title(tr("eval.title"))
flash("eval_flash")
models = s.list_models()
if not models:
    st.warning(tr("read.no_model"))
    st.stop()
names = {m.id: m.name for m in models}
active = s.active_model()
ids = [m.id for m in reversed(models)]
WS, KM = "workspace", "kmnist"
c1, c2, c3, c4 = st.columns(4)
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
EVERYONE = None  # the filter's first choice; '' is a real author (labels given without a name)
people = s.label_people()
authors = s.labellers(people)  # one pass over the labels for both
by = EVERYONE
if source == WS and authors:
    shown = {EVERYONE: tr("eval.by_all"), **{a: tr("eval.by_option", who=who_label(a), n=n) for a, n in authors.items()}}
    by = c4.selectbox(tr("eval.by"), list(shown), key="eval_by", format_func=lambda v, shown=shown: shown[v])


@st.cache_data(max_entries=8, show_spinner=False)
def evaluation(root: str, mid: int, src: str, stamp: tuple, labelled_by: str | None = None) -> Evaluation:
    """Cached per model, set, person and label state (labels are append-only: their count changes with every
    edit)."""
    from kuzushi_core.store import Store

    st_ = Store(root, create=False)
    lm = loaded(st_.get_model(mid))
    if src == KM:
        test = load_kmnist(data_dir() / "kmnist", "test")
        return evaluate_glyphs(lm, test.images, [test.classes[i] for i in test.labels])
    return evaluate_workspace(st_, lm, set(stamp[2]) or None, labelled_by)


only = by
try:
    with st.spinner(tr("eval.running")):
        ev = evaluation(str(s.root), model_id, source, stamp, only)
        ev_other = evaluation(str(s.root), other, source, stamp, only) if other else None
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
m[2].metric(tr("eval.macro_f1"), f"{rep['macro']['f1']:.3f}")
m[3].metric(tr("eval.weighted_f1"), f"{rep['weighted']['f1']:.3f}")
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
                            width="stretch")
    picked = (event or {}).get("selection", {}).get("points", []) if event else []
    if picked:
        st.session_state["eval_cell"] = tuple(picked[0]["customdata"])
with right:
    st.subheader(tr("eval.per_class"))
    per = pd.DataFrame([{"char": c, **v} for c, v in rep["per_class"].items() if v["support"] or v["precision"]])
    per = per.round(3).rename(columns={c: tr(f"eval.col.{c}") for c in ("char", "precision", "recall", "f1",
                                                                          "support")})
    st.dataframe(per, hide_index=True, height=300, width="stretch")
    if ev.reliability:
        rel = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"),
                                    name=tr("eval.ideal")),
                         go.Scatter(x=[b["confidence"] for b in ev.reliability],
                                    y=[b["accuracy"] for b in ev.reliability], mode="lines+markers",
                                    text=[b["n"] for b in ev.reliability], name=tr("eval.model"))])
        rel.update_layout(height=240, margin=dict(l=10, r=10, t=30, b=10), title=f"{tr('eval.reliability')} "
                          f"(ECE {ev.ece:.3f})", xaxis_title=tr("eval.confidence"), yaxis_title=tr("eval.accuracy"))
        st.plotly_chart(rel, key="eval_rel", width="stretch")

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
    s.add_label(box_id, char, source="user", labelled_by=user_name())
    st.session_state["eval_flash"] = tr("read.saved", id=box_id, char=char)


def confirm(box_id: int, char: str) -> None:
    s.add_label(box_id, char, source="user", labelled_by=user_name())
    st.session_state["eval_flash"] = tr("eval.confirmed", id=box_id, char=char)


def gallery(items, glyphs: np.ndarray, key: str, limit: int = 24, review: bool = False) -> None:
    """Cards of crops: the crop, its label and the reading side by side in large type, who labelled it, and
    buttons that say what they do (no hover needed)."""
    cols = st.columns(4)
    for n, it in enumerate(items[:limit]):
        with cols[n % 4].container(border=True, key=f"{key}_card_{it.box_id if it.box_id is not None else n}"):
            a, b_ = st.columns([1, 2], vertical_alignment="center")
            a.image(np.kron(glyphs[it.index], np.ones((3, 3), np.uint8)), width=84)
            b_.markdown(f'<div lang="ja" style="font-size:1.6rem;line-height:1.3">'
                        f'<span title="{tr("eval.true")}">{it.truth}</span> → '
                        f'<span title="{tr("eval.predicted")}">{it.predicted}</span></div>'
                        f'<div style="font-size:0.8rem;color:#666">{tr("eval.true")} → {tr("eval.predicted")}</div>',
                        unsafe_allow_html=True)
            st.caption(" · ".join(f"{c} {p:.2f}" for c, p in it.top3))
            if it.box_id is None:
                continue
            b = it.box_id
            author, confirmed = people.get(b, ("", ()))
            st.caption(tr("eval.labelled_by", who=who_label(author))
                       + (" · " + tr("eval.confirmed_by", who=", ".join(confirmed)) if confirmed else ""))
            if review and st.button(tr("eval.confirm", char=it.truth), key=f"{key}_confirm_{b}", type="primary",
                                    width="stretch"):
                confirm(b, it.truth)
                st.rerun()
            new = st.text_input(tr("eval.fix"), key=f"{key}_fix_{b}", max_chars=4, label_visibility="collapsed",
                                placeholder=tr("eval.fix"))
            if st.button(tr("eval.save"), key=f"{key}_save_{b}", help=tr("eval.save_help"),
                         width="stretch") and new.strip():
                relabel(b, new.strip())
                st.rerun()
            if it.predicted != it.truth and st.button(tr("eval.take", char=it.predicted), key=f"{key}_take_{b}",
                                                      help=tr("eval.take_help"), width="stretch"):
                relabel(b, it.predicted)
                st.rerun()
            if st.button(tr("eval.remove"), key=f"{key}_remove_{b}", help=tr("eval.remove_help"),
                         width="stretch"):
                s.add_box_flag(b, "excluded")
                st.session_state["eval_flash"] = tr("eval.removed", id=b)
                st.rerun()
            if st.button(tr("eval.on_page"), key=f"{key}_page_{b}", width="stretch"):
                st.session_state["read_scan"] = it.scan_id
                st.session_state["read_box"] = b
                st.switch_page("app_pages/read.py")


if items:
    gallery(items, ev.glyphs, "eval")
else:
    st.info(tr("eval.none_wrong"))

if source == WS:
    st.divider()
    st.subheader(tr("eval.review"))
    st.caption(tr("eval.review_help"))
    others = [a for a in authors if a != user_name()]
    if not user_name():
        st.info(tr("eval.review_need_name"))
    elif not others:
        st.info(tr("eval.review_none"))
    else:
        shown = {a: tr("eval.by_option", who=who_label(a), n=authors[a]) for a in others}
        whose = st.selectbox(tr("eval.review_who"), others, key="eval_review_who",
                             format_func=lambda v, shown=shown: shown[v])
        ev_whose = ev if only == whose else evaluation(str(s.root), model_id, source, stamp, whose)
        todo = to_confirm(ev_whose, people, whose, user_name())
        if todo:
            st.caption(tr("eval.review_left", n=len(todo), who=who_label(whose)))
            gallery(todo, ev_whose.glyphs, "review", 16, review=True)
        else:
            st.success(tr("eval.review_done", who=who_label(whose)))

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
