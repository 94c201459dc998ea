"""Read: classify every box of a scan, show the characters over the page, correct them by clicking."""

from __future__ import annotations

import base64
import io

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from app_pages._learn import learn_panel
from app_pages._shell import current_document_id, flash, pick_scan, store, tr, user_name, who_label
from kuzushi_core.crops import crop_box
from kuzushi_core.data.intake import import_annotations
from kuzushi_core.errors import KuzushiError
from kuzushi_core.imaging import read_image
from kuzushi_core.predict.classifier import classify_crops
from kuzushi_core.predict.reading import UNCERTAIN, loaded, read_scan, transcription
from kuzushi_core.segment.overlay import plot_height
from kuzushi_core.synth import fonts as synth_fonts
from kuzushi_core.synth.render import specimen

s = store()
st.title(tr("read.title"))
model = s.active_model()
if model is None and s.list_scans(current_document_id()):
    st.warning(tr("read.no_model"))
    st.stop()
scan = pick_scan("read_scan")
assert scan is not None and model is not None

if st.button(tr("read.run"), type="primary", key="read_run"):
    try:
        with st.spinner("…"):
            preds = read_scan(s, scan, model)
    except KuzushiError as exc:  # e.g. a model file that cannot be loaded: say so, keep everything stored
        st.error(str(exc))
        st.stop()
    st.session_state["read_message"] = tr("read.done", n=len(preds), model=model.name)
    st.rerun()
flash("read_message", "read_saved")

with st.container(border=True):
    learn_panel(s, "read")

with st.expander(tr("read.annotations")):
    st.caption(tr("read.annotations_help"))
    with st.form(f"read_ann_form_{scan.id}", clear_on_submit=True, border=False):
        up = st.file_uploader(tr("read.annotations"), type=["csv"], key=f"read_ann_{scan.id}",
                              label_visibility="collapsed")
        go_import = st.form_submit_button(tr("read.annotations_go"), key="read_ann_go")
    if go_import and up is not None:
        try:
            done = import_annotations(s, scan, up.getvalue(), up.name, labelled_by=user_name())
        except KuzushiError as exc:
            st.error(str(exc))
        else:
            st.session_state["read_message"] = tr("read.annotations_done", **done)
            st.rerun()

preds = s.predictions(scan.id, model.id)
boxes = [b for b in s.list_boxes(scan.id) if b.id in preds]
if not boxes:
    st.info(tr("read.not_read"))
    st.stop()
labels = s.current_labels(scan.id)


@st.cache_data(max_entries=2, show_spinner=False)
def page_image(path: str):
    return read_image(path)


@st.cache_data(max_entries=4, show_spinner=False)
def background(path: str, max_side: int = 1400) -> tuple[str, float]:
    im = Image.fromarray(page_image(path))
    scale = min(1.0, max_side / max(im.size))
    im = im.resize((int(im.width * scale), int(im.height * scale)))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode(), scale


@st.cache_data(max_entries=512, show_spinner=False)
def candidate_sheet(ch: str):
    return specimen(ch, size=48)


uncertain = [b for b in boxes if preds[b.id].confidence < UNCERTAIN and b.id not in labels]


def save_and_next(box_id: int, char: str) -> None:
    """Keep the label, and move the reviewer on to the next uncertain unlabelled character (a button callback:
    it runs before the page is drawn again, so the selection changes in the browser too, and the page stays where it
    was: only the panel on the right changes)."""
    s.add_label(box_id, char, "user", labelled_by=user_name())
    st.session_state["read_saved"] = tr("read.saved", id=box_id, char=char)
    rest = sorted((b for b in boxes if b.id not in labels and b.id != box_id), key=lambda b: preds[b.id].confidence)
    if rest:
        st.session_state["read_box"] = rest[0].id


def save_typed(box_id: int, candidates: list, reading: str) -> None:
    """The typing field's Enter: a digit picks that candidate, an empty field accepts the reading, else the text."""
    t = str(st.session_state.get(f"typed_{box_id}", "")).strip()
    char = candidates[int(t) - 1][0] if t.isdigit() and 1 <= int(t) <= min(9, len(candidates)) else (t or reading)
    save_and_next(box_id, char)
st.caption(tr("read.uncertain", n=len(uncertain), total=len(boxes), thr=UNCERTAIN))

left, right = st.columns([3, 2])
with left:
    src, _ = background(str(s.scan_path(scan)))
    fig = go.Figure()
    fig.add_layout_image(dict(source=src, x=0, y=0, sizex=scan.width, sizey=scan.height, xref="x", yref="y",
                              sizing="stretch", layer="below"))
    outline_x, outline_y = [], []
    for b in boxes:
        outline_x += [b.x, b.x + b.w, b.x + b.w, b.x, b.x, None]
        outline_y += [b.y, b.y, b.y + b.h, b.y + b.h, b.y, None]
    fig.add_trace(go.Scatter(x=outline_x, y=outline_y, mode="lines", line=dict(width=1, color="rgba(0,114,178,0.6)"),
                             hoverinfo="skip", showlegend=False))
    colour = ["#1b7837" if b.id in labels else ("#d7191c" if preds[b.id].confidence < UNCERTAIN else "#0072b2")
              for b in boxes]
    text = [labels[b.id].char if b.id in labels else preds[b.id].label for b in boxes]
    fig.add_trace(go.Scatter(
        x=[b.x + b.w + 0.25 * b.w for b in boxes], y=[b.y + b.h / 2 for b in boxes], mode="markers+text",
        text=text, textposition="middle right", textfont=dict(size=16, color=colour),
        marker=dict(size=10, color=colour, opacity=0.8), customdata=[b.id for b in boxes],
        hovertext=[f"#{b.id} {preds[b.id].label} {preds[b.id].confidence:.2f}" for b in boxes], hoverinfo="text",
        showlegend=False, name="chars"))
    fig.update_xaxes(range=[0, scan.width], visible=False)
    fig.update_yaxes(range=[scan.height, 0], visible=False, scaleanchor="x")
    fig.update_layout(height=plot_height((scan.height, scan.width)), margin=dict(l=0, r=0, t=0, b=0), dragmode="pan", clickmode="event+select")
    event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key="read_plot", width="stretch")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points and "customdata" in points[0]:
        picked = points[0]["customdata"]
        picked = picked[0] if isinstance(picked, list) else picked
        if st.session_state.get("read_last_pick") != picked:
            st.session_state["read_last_pick"] = picked
            st.session_state["read_box"] = int(picked)

with right:
    st.subheader(tr("read.transcription"))
    view = st.radio(tr("read.view"), ["context", "crop"], horizontal=True, key="read_view",
                    format_func=lambda v, names={v: tr(f"read.view.{v}") for v in ("context", "crop")}: names[v],
                    help=tr("read.view_help"))
    lines = transcription(s, scan, model, in_context=view == "context")
    if view == "crop":
        own = transcription(s, scan, model, in_context=True)
        changed = sum(a != b for x, y in zip(lines, own) for a, b in zip(x, y))
        st.caption(tr("read.view_changed", n=changed))
    html = "".join(f"<div>{line}</div>" for line in lines)
    st.markdown(
        f'<div lang="ja" style="writing-mode: vertical-rl; height: 420px; overflow-x: auto; font-size: 1.3rem; '
        f'line-height: 1.8; border: 1px solid #ddd; padding: 0.5rem">{html}</div>',
        unsafe_allow_html=True,
    )
    st.code("\n".join(lines), language=None)

    order = sorted(boxes, key=lambda b: (b.id in labels, preds[b.id].confidence))
    ids = [b.id for b in order]
    if st.session_state.get("read_box") not in ids:
        st.session_state["read_box"] = ids[0]
    box_id = st.selectbox(tr("read.box"), ids, key="read_box",
                          format_func=lambda i, p={b.id: preds[b.id] for b in boxes}, lab=dict(labels):
                          f"#{i} {lab[i].char + ' ✓' if i in lab else p[i].label} ({p[i].confidence:.2f})")
    box = next(b for b in boxes if b.id == box_id)
    p = preds[box.id]
    c1, c2 = st.columns([1, 2])
    c1.image(crop_box(page_image(str(s.scan_path(scan))), box.x, box.y, box.w, box.h, margin=0.1), width=120)
    if box.id in labels:
        c2.write(tr("read.current", char=labels[box.id].char, source=tr(f"read.source.{labels[box.id].source}"),
                    who=who_label(labels[box.id].labelled_by)))
    c2.caption(tr("read.candidates"))
    crop = crop_box(page_image(str(s.scan_path(scan))), box.x, box.y, box.w, box.h)
    more = st.toggle(tr("read.more"), key=f"read_more_{box.id}")
    candidates = list(p.candidates)
    if more:  # the longer list is computed on demand for this one crop
        try:
            candidates = list(classify_crops(loaded(model), [crop], k=20)[0].candidates)
        except KuzushiError as exc:
            st.error(str(exc))
    have_fonts = bool(synth_fonts.available())
    if not have_fonts:
        st.caption(tr("read.no_fonts", packages=", ".join(synth_fonts.missing_packages())))
    for k, (ch, prob) in enumerate(candidates):
        # a fixed height: the page keeps its length while a new box's brush sheets load (else the browser, its scroll
        # position past the shortened page, jumps back to the top)
        row = st.container(key=f"cand_row_{box.id}_{k}", horizontal=True, vertical_alignment="center",
                           height=72 if have_fonts else "content", border=False)
        row.button(f"{k + 1}: {ch} {prob:.2f}" if k < 9 else f"{ch} {prob:.2f}", key=f"cand_{box.id}_{k}",
                   on_click=save_and_next, args=(box.id, ch))
        if have_fonts:
            sheet = candidate_sheet(ch)
            if sheet is not None:
                row.image(sheet, width=min(60 * sheet.shape[1] // sheet.shape[0], 300),
                          caption=None, output_format="PNG")
    with st.form(f"type_{box.id}", clear_on_submit=True, border=False):
        st.text_input(tr("read.type"), max_chars=4, key=f"typed_{box.id}", help=tr("read.type_help"))
        st.form_submit_button(tr("read.save"), on_click=save_typed, args=(box.id, candidates, p.label))

st.subheader(tr("read.table"))
rows = pd.DataFrame(
    [{"order": b.order + 1, "column": b.column + 1, "box": b.id, "label": labels[b.id].char if b.id in labels else "",
      "predicted": preds[b.id].label, "confidence": round(preds[b.id].confidence, 3),
      "candidates": " ".join(f"{c}{v:.2f}" for c, v in preds[b.id].candidates[:3]),
      "labelled_by": who_label(labels[b.id].labelled_by) if b.id in labels else "",
      "x": b.x, "y": b.y, "w": b.w, "h": b.h} for b in boxes]
)
flagged = ((rows["confidence"] < UNCERTAIN) & (rows["label"] == "")).tolist()
rows = rows.rename(columns={c: tr(f"read.col.{c}") for c in rows.columns})
styled = rows.style.apply(
    lambda r: ["background-color: #fde0dd" if flagged[r.name] else ""] * len(r), axis=1
)
st.dataframe(styled, hide_index=True, width="stretch", height=320)
