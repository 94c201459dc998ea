"""Train: retrain point-and-click (feature extraction, fine-tuning, scratch) in a background worker,
with live progress, learning curves and a cancel button."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from app_pages._shell import flash, store, tr, user_name
from kuzushi_core.data.classzip import unpack as unpack_class_zip
from kuzushi_core.errors import KuzushiError
from kuzushi_core.evaluation.metrics import mean_curves, overfitting_onset
from kuzushi_core.paths import data_dir
from kuzushi_core.train import jobs
from kuzushi_core.train.features import rehearsal_ready
from kuzushi_core.train.transfer import BIG_BASE_REHEARSAL, DEFAULT_LEARNING_RATE, MIN_PER_CLASS, MODES

s = store()
st.title(tr("train.title"))
st.caption(tr("train.intro"))
models = s.list_models()
active = s.active_model()
flash("train_flash")

c1, c2, c3 = st.columns(3)
with c1:
    st.subheader(tr("train.model"))
    mode = st.radio(tr("train.mode"), MODES, key="train_mode",
                    format_func=lambda m, labels={m: tr(f"train.mode.{m}") for m in MODES}: labels[m])
    base_id = None
    if mode != "scratch":
        if not models:
            st.warning(tr("train.no_base"))
            st.stop()
        ids = [m.id for m in models]
        base_id = st.selectbox(tr("train.base"), ids, index=ids.index(active.id) if active else 0, key="train_base",
                               format_func=lambda i, n={m.id: m.name for m in models}: f"#{i} {n[i]}")
    unfreeze = st.number_input(tr("train.unfreeze"), 1, 3, 1, key="train_unfreeze") if mode == "fine-tune" else 1
    keep_old = st.checkbox(tr("train.keep_old"), True, key="train_keep_old") if mode != "scratch" else False
with c2:
    st.subheader(tr("train.data"))
    use_ws = st.checkbox(tr("train.workspace_labels", n=sum(s.label_counts().values())), True, key="train_ws")
    has_kmnist = (data_dir() / "kmnist").exists()
    per_class = st.number_input(tr("train.kmnist"), 0, 700, 200 if has_kmnist else 0, 50, key="train_kmnist",
                                disabled=not has_kmnist, help=tr("train.kmnist_help"))
    zips = st.file_uploader(tr("train.zip"), type=["zip"], accept_multiple_files=True, key="train_zip",
                            help=tr("train.zip_help"))
    folders = []
    for up in zips or []:
        try:
            got = unpack_class_zip(s, up.getvalue(), up.name)
        except KuzushiError as exc:
            st.error(str(exc))
            continue
        folders.append(str(got.folder))
        st.caption(tr("train.zip_got", name=up.name, k=len(got.counts), n=got.n_images,
                      chars="".join(list(got.counts)[:30]) + ("…" if len(got.counts) > 30 else "")))
        if got.note:
            st.caption(got.note)
    folders_text = st.text_area(tr("train.folders"), "", key="train_folders", help=tr("train.folders_help"), height=68)
    folders += [f.strip() for f in folders_text.splitlines() if f.strip()]
    synth_chars = st.text_input(tr("train.synth"), "", key="train_synth", help=tr("train.synth_help")).strip()
    base_rec = next((m for m in models if m.id == base_id), None)
    synth_rehearsal = st.number_input(tr("train.synth_rehearsal"), 0, 50, BIG_BASE_REHEARSAL,
                                      key="train_synth_reh",
                                      help=tr("train.synth_rehearsal_help")) if mode != "scratch" else 0
with c3:
    st.subheader(tr("train.protocol"))
    # a toggle, not a radio with translated option labels: those change the widget's identity when the language
    # changes, and the browser then loses the choice
    kfold = st.toggle(tr("train.kfold"), False, key="train_kfold", help=tr("train.kfold_help"))
    val_pct = st.slider(tr("train.holdout_pct"), 5, 40, 15, key="train_val_pct") if not kfold else 15
    folds = st.number_input(tr("train.folds"), 2, 10, 5, key="train_folds") if kfold else 0
    aug_names = [""] + list(s.augment_configs())
    augment = st.selectbox(tr("train.augment"), aug_names, key="train_augment",
                           format_func=lambda n, none=tr("train.augment_none"): n or none)
    e1, e2 = st.columns(2)
    epochs = e1.number_input(tr("train.epochs"), 1, 500, 10, key="train_epochs")
    patience = e2.number_input(tr("train.patience"), 1, 500, 8, key="train_patience", help=tr("train.patience_help"))
    batch = st.select_slider(tr("train.batch"), [16, 32, 64, 128, 256], 64, key="train_batch")
    lr = st.number_input(tr("train.lr"), 1e-5, 1e-1, DEFAULT_LEARNING_RATE[mode], format="%.5f",
                         key=f"train_lr_{mode}")

config = {"mode": mode, "base_model_id": base_id, "unfreeze": int(unfreeze), "keep_old": bool(keep_old),
          "workspace_labels": bool(use_ws), "kmnist_per_class": int(per_class), "folders": folders,
          "synth_chars": synth_chars, "synth_rehearsal": int(synth_rehearsal),
          "val_split": val_pct / 100, "folds": int(folds), "augment": augment or None, "epochs": int(epochs), "patience": int(patience),
          "batch_size": int(batch), "learning_rate": float(lr)}
counts = jobs.planned_counts(s, config)
with st.expander(tr("train.counts", n=sum(counts.values()), k=len(counts)), expanded=False):
    if counts:
        st.dataframe(pd.DataFrame({tr("train.col.char"): list(counts), tr("train.col.n"): list(counts.values())}),
                     hide_index=True, height=200)
small = [c for c, n in counts.items() if n < MIN_PER_CLASS]
if small:
    st.warning(tr("train.small", chars="".join(small[:40]), min=MIN_PER_CLASS))
est = jobs.estimate_seconds(sum(counts.values()), int(epochs), mode, int(folds) or 1,
                           base_classes=len(base_rec.classes) if base_rec and int(synth_rehearsal) else 0,
                           cache_ready=base_rec is None or rehearsal_ready(base_rec.path), patience=int(patience))
if mode != "scratch" and not int(synth_rehearsal):
    st.warning(tr("train.no_rehearsal"))
name = st.text_input(tr("train.name"), "", key="train_name", placeholder=f"{tr(f'train.mode.{mode}')} …")
if st.button(tr("train.start", minutes=est / 60), type="primary", key="train_start", disabled=not counts):
    try:
        run = jobs.submit(s, {**config, "name": name.strip()}, started_by=user_name())
    except KuzushiError as exc:
        st.error(str(exc))
    else:
        st.session_state["train_run"] = run.id
        st.session_state["train_flash"] = tr("train.queued", id=run.id)
        st.rerun()

st.divider()
st.subheader(tr("train.runs"))


def run_label(run) -> str:
    """A run as listed: number, mode and who started it, in the UI's language.  Not its state: a keyed selectbox
    keeps showing the label it first drew when only ``format_func``'s text changes (streamlit/streamlit#13788), so a
    finished run stayed "running" in the list; the state stands on the progress line under it."""
    mode = run.config.get("mode")
    parts = [f"#{run.id}", tr(f"train.mode.{mode}") if mode in MODES else tr("train.kind.adapt")]
    return " · ".join(parts + ([run.started_by] if run.started_by else []))


def curves_figure(runs_rows: dict[int, list[dict]]) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=(tr("train.loss"), tr("train.accuracy")))
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    for n, (run_id, rows) in enumerate(runs_rows.items()):
        color = palette[n % len(palette)]
        curve = mean_curves(rows)
        if not curve:
            continue
        ep = [r["epoch"] + 1 for r in curve]
        for col, key in ((1, "loss"), (2, "accuracy")):
            for prefix, dash in (("", "solid"), ("val_", "dash")):
                k = prefix + key
                if k not in curve[0]:
                    continue
                y = [r.get(k) for r in curve]
                label = f"#{run_id} {tr('train.val') if prefix else tr('train.train')}"
                if curve[0]["folds"] > 1:  # k-fold: mean with a ±std band
                    sd = [r.get(k + "_std", 0) for r in curve]
                    fig.add_scatter(x=ep + ep[::-1], y=[a + b for a, b in zip(y, sd)] + [a - b for a, b in
                                                                                      zip(y[::-1], sd[::-1])],
                                    fill="toself", line=dict(width=0), fillcolor=color, opacity=0.15,
                                    showlegend=False, hoverinfo="skip", row=1, col=col)
                fig.add_scatter(x=ep, y=y, mode="lines+markers", name=label, line=dict(color=color, dash=dash),
                                legendgroup=label, showlegend=(col == 1), row=1, col=col)
    longest = max((r["epoch"] + 1 for rows in runs_rows.values() for r in rows), default=0)
    # whole epochs only (two epochs drew ticks at 1.2, 1.4 …); the legend under the axis titles, not on them
    fig.update_xaxes(title_text=tr("train.epoch"), dtick=1 if longest <= 12 else None)
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.25))
    return fig


def _active(runs) -> bool:
    return any(r.status in ("queued", "running") for r in runs)


jobs.reap(s)  # a worker killed outright is marked failed here, within a poll
polling = _active(s.list_runs())


# Poll the store once a second only while a run is queued or running: an idle page does no work in the script
# thread. When the last active run ends, one full rerun draws its final state and stops the polling.
@st.fragment(run_every=1.0 if polling else None)
def live() -> None:
    jobs.reap(s)
    runs = s.list_runs()
    if polling and not _active(runs):
        st.rerun()
    if any(r.status == "queued" for r in runs):
        jobs.ensure_worker(s)
    if not runs:
        st.info(tr("train.no_runs"))
        return
    ids = [r.id for r in runs]
    by_id = {r.id: r for r in runs}
    if st.session_state.get("train_run") not in ids:
        st.session_state["train_run"] = ids[0]
    run_id = st.selectbox(tr("train.run"), ids, key="train_run",
                          format_func=lambda i, shown={r.id: run_label(r) for r in runs}: shown[i])
    run = by_id[run_id]
    status = tr(f"train.status.{run.status}")
    cols = st.columns([3, 1])
    with cols[0]:
        eta = jobs.eta_seconds(run)
        text = f"{status} · {run.progress:.0%}" + (f" · {tr('train.eta', s=eta)}" if eta is not None else "")
        st.progress(min(max(run.progress, 0.0), 1.0), text=text)
    with cols[1]:
        if run.status in ("queued", "running"):
            if st.button(tr("train.cancel"), key=f"train_cancel_{run.id}"):
                s.request_cancel(run.id)
                st.rerun(scope="fragment")
    if run.error:
        st.error(tr("train.error", error=run.error))
    if run.status == "completed" and run.model_id:
        m = run.metrics
        st.success(tr("train.completed", model=run.model_id, acc=m.get("val_accuracy") or 0, s=m.get("seconds", 0)))
        if m.get("activated") is False:
            st.warning(tr("learn.kept", id=run.model_id,
                          why="; ".join(m.get("reasons") or []) or tr("learn.worse_why")))
        for w in m.get("warnings") or []:
            st.caption(w)
    compare = st.multiselect(tr("train.compare"), [i for i in ids if i != run_id], key="train_compare",
                             format_func=lambda i, shown={r.id: run_label(r) for r in runs}: shown[i])
    rows = {i: s.run_epochs(i) for i in [run_id, *compare]}
    if rows[run_id]:
        st.plotly_chart(curves_figure(rows), key="train_curves", use_container_width=True)
        onset = overfitting_onset(rows[run_id])
        if onset is not None:
            st.warning(tr("train.overfit", epoch=onset + 1))
        last = rows[run_id][-1]
        st.caption(" · ".join(f"{tr(f'train.fig.{k}')} {last[k]:.4f}"
                              for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in last))
    elif run.status in ("queued", "running"):
        st.caption(tr("train.waiting"))


live()
