"""Label next: the boxes the model is least sure of, across the workspace, with a fast labelling flow.

Type a character and press Enter to label; 1–5 picks that candidate; Enter on an empty field accepts the
model's reading. The next box comes up at once.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages._learn import learn_panel
from app_pages._shell import current_document_id, store, tr
from kuzushi_core.crops import crop_box
from kuzushi_core.imaging import read_image
from kuzushi_core.review import uncertainty_queue

s = store()
st.title(tr("queue.title"))
st.caption(tr("queue.intro"))
model = s.active_model()
if model is None:
    st.warning(tr("read.no_model"))
    st.stop()
if "queue_flash" in st.session_state:
    st.success(st.session_state.pop("queue_flash"))
with st.expander(tr("learn.title"), expanded=False):
    learn_panel(s, "queue")
doc = current_document_id()
scan_ids = {sc.id for sc in s.list_scans(doc)} if doc else None
skipped = st.session_state.setdefault("queue_skipped", set())
queue = [(b, p) for b, p in uncertainty_queue(s, model.id, 200, scan_ids) if b.id not in skipped]
if not queue:
    st.info(tr("queue.empty"))
    st.stop()


@st.cache_data(max_entries=3, show_spinner=False)
def page_gray(path: str) -> np.ndarray:
    return read_image(path, gray=True)


def crop_of(box, margin=0.15):
    return crop_box(page_gray(str(s.scan_path(s.get_scan(box.scan_id)))), box.x, box.y, box.w, box.h, margin=margin)


box, pred = queue[0]
st.caption(tr("queue.count", n=len(queue)))
left, right = st.columns([1, 2])
left.image(crop_of(box), width=180, caption=f"#{box.id} · {tr('queue.scan')} #{box.scan_id}")
with right:
    st.markdown(" ".join(f"**{k + 1}** {c} `{p:.2f}`" for k, (c, p) in enumerate(pred.candidates)))
    cols = st.columns(len(pred.candidates) + 1)
    for k, (c, p) in enumerate(pred.candidates):
        if cols[k].button(f"{k + 1}: {c}", key=f"queue_cand_{k}"):
            s.add_label(box.id, c, "user")
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
            s.add_label(box.id, char, "user")
            st.session_state["queue_flash"] = tr("read.saved", id=box.id, char=char)
            st.rerun()
st.subheader(tr("queue.next"))
cols = st.columns(8)
for n, (b, p) in enumerate(queue[1:17]):
    cols[n % 8].image(crop_of(b, 0.05), width=64, caption=f"{p.label} {p.confidence:.2f}")
