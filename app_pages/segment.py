"""Segment: run the segmentation of a scan, look at the boxes and steps, fix boxes by clicking."""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st
from streamlit_image_coordinates import streamlit_image_coordinates

from app_pages._shell import flash, pick_scan, store, tr
from kuzushi_core.imaging import read_image
from kuzushi_core.predict.reading import ensure_default_model, loaded
from kuzushi_core.segment.columns import SegmentParams
from kuzushi_core.segment.overlay import box_at, display_scale, draw_boxes, page_point, split_box, union
from kuzushi_core.segment.refine import METHOD_SETTING, METHODS, segment_by

s = store()
st.title(tr("seg.title"))

scan = pick_scan("seg_scan")
assert scan is not None


@st.cache_data(max_entries=4, show_spinner=False)
def page_image(path: str):
    return read_image(path)


@st.cache_data(max_entries=8, show_spinner=False)
def run_segmentation(path: str, params: dict, method: str = "columns", model_path: str | None = None):
    lm = None
    if method != "columns":
        record = next(m for m in s.list_models() if m.path == model_path)
        lm = loaded(record)
    return segment_by(method, page_image(path), SegmentParams(**params), lm, keep_steps=True)


page = page_image(str(s.scan_path(scan)))
defaults = SegmentParams()
with st.expander(tr("seg.params")):
    c1, c2, c3 = st.columns(3)
    params = asdict(defaults) | {
        "work_height": c1.slider(tr("seg.work_height"), 800, 2400, defaults.work_height, 100, key="p_work_height"),
        "binarisation": c1.selectbox(tr("seg.binarisation"), ["auto", "otsu", "sauvola", "adaptive"], key="p_bin",
                                     format_func=lambda v, shown={v: tr(f"seg.bin.{v}") for v in
                                                                  ("auto", "otsu", "sauvola", "adaptive")}: shown[v]),
        "ruby_width": c2.slider(tr("seg.ruby_width"), 0.2, 0.8, defaults.ruby_width, 0.05, key="p_ruby"),
        "merge_gap": c2.slider(tr("seg.merge_gap"), 0.0, 0.6, defaults.merge_gap, 0.05, key="p_merge"),
        "max_aspect": c3.slider(tr("seg.max_aspect"), 1.0, 2.0, defaults.max_aspect, 0.05, key="p_aspect"),
        "include_punctuation": c3.checkbox(tr("seg.punctuation"), defaults.include_punctuation, key="p_punct"),
        "min_char": c3.slider(tr("seg.min_char"), 0.0, 0.5, defaults.min_char, 0.05, key="p_min_char"),
    }

model = ensure_default_model(s)
made_by = s.get_setting(METHOD_SETTING.format(scan_id=scan.id))
method = st.radio(tr("seg.method"), [m for m in METHODS if m == "columns" or model is not None], horizontal=True,
                  index=METHODS.index(made_by) if made_by in METHODS and (model or made_by == "columns") else 0,
                  format_func=lambda m, labels={m: tr(f"seg.method_{m.replace('+', '_')}") for m in METHODS}: labels[m],
                  key="seg_method")
c1, c2 = st.columns([1, 2])
replace_user = c2.checkbox(tr("seg.replace_user"), False, key="seg_replace_user")
if c1.button(tr("seg.run"), type="primary", key="seg_run"):
    with st.spinner(tr("seg.running")):
        seg = run_segmentation(str(s.scan_path(scan)), params, method, model.path if model else None)
    stored = s.replace_auto_boxes(scan.id, [b.as_dict() | {"flags": b.flags} for b in seg.boxes],
                                  replace_user=replace_user)
    s.set_setting(METHOD_SETTING.format(scan_id=scan.id), method)
    st.session_state["seg_selected"] = []
    # the columns as the workspace numbers them (what the caption below counts; a form's cell lines are not columns)
    st.session_state["seg_message"] = tr("seg.ran", n=len(seg.boxes), cols=len({b.column for b in stored}),
                                         ruby=len(seg.ruby))
    st.session_state["seg_last"] = (scan.id, params)
    st.rerun()
flash("seg_message")

boxes = s.list_boxes(scan.id)
selected: list[int] = [i for i in st.session_state.get("seg_selected", []) if i in {b.id for b in boxes}]
st.session_state["seg_selected"] = selected
if not boxes:
    st.info(tr("seg.no_boxes"))
else:
    st.caption(tr("seg.count", n=len(boxes), user=sum(b.source == "user" for b in boxes),
                  cols=len({b.column for b in boxes}))
               + (" · " + tr("seg.made_by", method=tr(f"seg.method_{made_by.replace('+', '_')}"))
                  if made_by in METHODS else ""))

left, right = st.columns([3, 1])
# the tools follow the page while a tall scan scrolls (the column sticks below the app's header; the row beside it
# is as tall as the image, so there is room to stick in)
st.markdown("<style>div[data-testid='stColumn']:has(.st-key-seg_tools) {position: sticky; top: 3.75rem; "
            "align-self: flex-start; z-index: 2; background: var(--background-color, white)}</style>",
            unsafe_allow_html=True)
with right, st.container(key="seg_tools"):
    mode = st.radio(tr("seg.mode"), ["select", "add"], key="seg_mode",
                    format_func=lambda m, a=tr("seg.mode_select"), b=tr("seg.mode_add"): a if m == "select" else b)
    show_order = st.checkbox(tr("seg.show_order"), False, key="seg_show_order")
    st.write(tr("seg.selected", ids=", ".join(f"#{i}" for i in selected)) if selected else tr("seg.none_selected"))
    chosen = [b for b in boxes if b.id in selected]
    b1, b2 = st.columns(2)
    if b1.button(tr("seg.delete"), disabled=not chosen, key="seg_delete"):
        s.edit_boxes(scan.id, delete=[b.id for b in chosen])
        st.session_state["seg_selected"] = []
        st.rerun()
    if b2.button(tr("seg.merge"), disabled=len(chosen) < 2, key="seg_merge"):
        s.edit_boxes(scan.id, delete=[b.id for b in chosen], add=[union(chosen)])
        st.session_state["seg_selected"] = []
        st.rerun()
    b3, b4 = st.columns(2)
    if b3.button(tr("seg.split"), disabled=len(chosen) != 1, key="seg_split"):
        gray = read_image(s.scan_path(scan), gray=True)
        s.edit_boxes(scan.id, delete=[chosen[0].id], add=split_box(chosen[0], gray))
        st.session_state["seg_selected"] = []
        st.rerun()
    if b4.button(tr("seg.clear"), disabled=not chosen, key="seg_clear"):
        st.session_state["seg_selected"] = []
        st.rerun()
    if len(chosen) == 1:
        b = chosen[0]
        with st.form("seg_move"):
            x = st.number_input(tr("seg.x"), 0, scan.width, b.x, key=f"mx_{b.id}")
            y = st.number_input(tr("seg.y"), 0, scan.height, b.y, key=f"my_{b.id}")
            w = st.number_input(tr("seg.w"), 1, scan.width, b.w, key=f"mw_{b.id}")
            h = st.number_input(tr("seg.h"), 1, scan.height, b.h, key=f"mh_{b.id}")
            if st.form_submit_button(tr("seg.apply")):
                s.edit_boxes(scan.id, update={b.id: (x, y, w, h)})
                st.rerun()

with left:
    scale = display_scale(page.shape, 1100, 1400)
    overlay = draw_boxes(page, boxes, scale=scale, selected=selected, show_order=show_order)
    # the column's width (the component's "content" sizing does not stop at the column: a landscape scan overflowed)
    event = streamlit_image_coordinates(overlay, key=f"seg_canvas_{scan.id}", click_and_drag=True, width="stretch",
                                        image_format="JPEG", jpeg_quality=85, cursor="crosshair")
    if event and event != st.session_state.get("seg_last_event"):
        st.session_state["seg_last_event"] = event
        shown = event.get("width")
        x1, y1 = page_point(event.get("x1", event.get("x", 0)), event.get("y1", event.get("y", 0)),
                            shown, scan.width, scale)
        x2, y2 = page_point(event.get("x2", event.get("x", 0)), event.get("y2", event.get("y", 0)),
                            shown, scan.width, scale)
        if mode == "add" and abs(x2 - x1) > 3 and abs(y2 - y1) > 3:
            x0, y0 = max(0, min(x1, x2)), max(0, min(y1, y2))
            s.edit_boxes(scan.id, add=[(int(x0), int(y0), int(abs(x2 - x1)), int(abs(y2 - y1)))])
            st.rerun()
        elif mode == "select":
            hit = box_at(boxes, x1, y1)
            if hit is not None:
                sel = st.session_state["seg_selected"]
                st.session_state["seg_selected"] = [i for i in sel if i != hit.id] if hit.id in sel else sel + [hit.id]
                st.rerun()

last = st.session_state.get("seg_last")
if last and last[0] == scan.id:
    with st.expander(tr("seg.steps")):
        seg = run_segmentation(str(s.scan_path(scan)), last[1])
        tabs = st.tabs(list(seg.steps))
        for tab, (name, img) in zip(tabs, seg.steps.items()):
            tab.image(img, caption=name, width=700)
