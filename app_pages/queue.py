"""Label next: the boxes the model is least sure of, across the workspace, with a fast labelling flow.

Type a character and press Enter to label; 1–5 picks that candidate; Enter on an empty field accepts the
model's reading. The next box comes up at once.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages._learn import learn_panel
from app_pages._shell import current_document_id, flash, store, tr, user_name
from kuzushi_core.crops import crop_box
from kuzushi_core.evaluation.review import QUEUE_ORDERS, uncertainty_queue
from kuzushi_core.imaging import read_image
from kuzushi_core.synth.render import specimen

s = store()
st.title(tr("queue.title"))
st.caption(tr("queue.intro"))
model = s.active_model()
if model is None:
    st.warning(tr("read.no_model"))
    st.stop()
flash("queue_flash")
with st.expander(tr("learn.title"), expanded=False):
    learn_panel(s, "queue")
doc = current_document_id()
scan_ids = {sc.id for sc in s.list_scans(doc)} if doc else None
skipped = st.session_state.setdefault("queue_skipped", set())
order = st.radio(tr("queue.order"), QUEUE_ORDERS[:2], key="queue_order", horizontal=True,
                 format_func=lambda o, lab={o: tr(f"queue.order.{o}") for o in QUEUE_ORDERS}: lab[o])
queue = [(b, p) for b, p in uncertainty_queue(s, model.id, 200, scan_ids, order=order) if b.id not in skipped]
if not queue:
    st.info(tr("queue.empty"))
    st.stop()


@st.cache_data(max_entries=3, show_spinner=False)
def page_gray(path: str) -> np.ndarray:
    return read_image(path, gray=True)


def crop_of(box, margin=0.15):
    return crop_box(page_gray(str(s.scan_path(s.get_scan(box.scan_id)))), box.x, box.y, box.w, box.h, margin=margin)


@st.cache_data(max_entries=512, show_spinner=False)
def brush(ch: str):
    return specimen(ch, size=40)


def column_context(box, before: int = 3, after: int = 3) -> np.ndarray:
    """The page around the box: its neighbours in the same column, the box itself outlined."""
    import cv2

    col = [b for b in s.list_boxes(box.scan_id) if b.column == box.column]
    k = next(i for i, b in enumerate(col) if b.id == box.id)
    near = col[max(0, k - before): k + after + 1]
    x0, y0 = min(b.x for b in near), min(b.y for b in near)
    x1, y1 = max(b.x + b.w for b in near), max(b.y + b.h for b in near)
    pad = int(0.2 * max(b.w for b in near))
    page = page_gray(str(s.scan_path(s.get_scan(box.scan_id))))
    x0, y0 = max(0, x0 - pad), max(0, y0 - pad)
    x1, y1 = min(page.shape[1], x1 + pad), min(page.shape[0], y1 + pad)
    out = cv2.cvtColor(page[y0:y1, x0:x1], cv2.COLOR_GRAY2RGB)
    cv2.rectangle(out, (box.x - x0, box.y - y0), (box.x - x0 + box.w, box.y - y0 + box.h), (215, 25, 28),
                  max(2, box.w // 30))
    return out


box, pred = queue[0]
st.caption(tr("queue.count", n=len(queue)))
left, mid, right = st.columns([1, 1, 3])
left.image(crop_of(box), width=180, caption=f"#{box.id} · {tr('queue.scan')} #{box.scan_id}")
mid.image(column_context(box), width=110, caption=tr("queue.context"))
with right:
    cols = st.columns(len(pred.candidates) + 1)
    for k, (c, p) in enumerate(pred.candidates):
        sheet = brush(c)
        if sheet is not None:
            cols[k].image(sheet, width=min(sheet.shape[1], 150), output_format="PNG")
        cols[k].caption(f"{p:.2f}")
        if cols[k].button(f"{k + 1}: {c}", key=f"queue_cand_{k}"):
            s.add_label(box.id, c, "user", labelled_by=user_name())
            st.session_state["queue_flash"] = tr("read.saved", id=box.id, char=c)
            st.rerun()
    if cols[-1].button(tr("queue.skip"), key="queue_skip"):
        skipped.add(box.id)
        st.rerun()
    with st.form(f"queue_form_{box.id}", clear_on_submit=True, border=False):
        typed = st.text_input(tr("queue.type"), key=f"queue_typed_{box.id}", max_chars=4)
        if st.form_submit_button(tr("read.save")):
            t = typed.strip()
            char = pred.candidates[int(t) - 1][0] if t.isdigit() and 1 <= int(t) <= len(pred.candidates) else (
                t or pred.label)
            s.add_label(box.id, char, "user", labelled_by=user_name())
            st.session_state["queue_flash"] = tr("read.saved", id=box.id, char=char)
            st.rerun()
st.subheader(tr("queue.next"))
cols = st.columns(8)
for n, (b, p) in enumerate(queue[1:17]):
    cols[n % 8].image(crop_of(b, 0.05), width=64, caption=f"{p.label} {p.confidence:.2f}")
