"""Scans: upload ledger pages, see them as thumbnails, open or delete them."""

from __future__ import annotations

import streamlit as st

from app_pages._shell import current_document_id, document_label, flash, store, tr
from kuzushi_core.data.intake import import_bytes, thumbnail_path
from kuzushi_core.paths import DEMO_PAGE
from kuzushi_core.store import DEFAULT_DOCUMENT
from kuzushi_core.synth import fonts as synth_fonts
from kuzushi_core.synth.registers import demo_pages

s = store()
st.title(tr("scans.title"))

# -- upload -----------------------------------------------------------------
docs = s.list_documents()
doc_names = [d.name for d in docs] or [DEFAULT_DOCUMENT]
current = current_document_id()
default_name = next((d.name for d in docs if d.id == current), doc_names[0])
st.session_state.setdefault("uploader_key", 0)

with st.container(border=True):
    target = st.selectbox(
        tr("scans.import_into"), doc_names, index=doc_names.index(default_name), key="import_document",
        format_func=lambda n, shown={n: document_label(n) for n in doc_names}: shown[n],
    )
    files = st.file_uploader(
        tr("scans.upload"),
        accept_multiple_files=True,
        key=f"uploader_{st.session_state['uploader_key']}",
    )
    if files and st.button(tr("scans.import_button", n=len(files)), type="primary", key="import_button"):
        doc = s.ensure_document(target)
        bar = st.progress(0.0)
        messages = []
        for i, f in enumerate(files):
            bar.progress(i / len(files), text=tr("scans.importing", i=i + 1, n=len(files), name=f.name))
            r = import_bytes(s, f.getvalue(), f.name, doc.id)
            if r.error:
                messages.append(("error", tr("scans.refused", error=r.error)))
            elif r.scans:
                messages.append(("success", tr("scans.imported", name=f.name, pages=len(r.scans))))
            else:
                ids = ", ".join(f"#{d.id}" for d in r.duplicates)
                messages.append(("info", tr("scans.duplicate", name=f.name, ids=ids)))
        bar.progress(1.0)
        st.session_state["import_messages"] = messages
        st.session_state["uploader_key"] += 1  # clears the uploader
        st.rerun()

    if DEMO_PAGE.exists() and st.button(tr("scans.demo"), help=tr("scans.demo_help"), key="demo_button"):
        doc = s.ensure_document(target)
        r = import_bytes(s, DEMO_PAGE.read_bytes(), DEMO_PAGE.name, doc.id)
        if r.scans:
            st.session_state["import_messages"] = [("success", tr("scans.imported", name=DEMO_PAGE.name, pages=1))]
        else:
            ids = ", ".join(f"#{d.id}" for d in r.duplicates)
            st.session_state["import_messages"] = [("info", tr("scans.duplicate", name=DEMO_PAGE.name, ids=ids))]
        st.rerun()

    if synth_fonts.available() and st.button(tr("scans.demo_registers"), help=tr("scans.demo_registers_help"),
                                             key="demo_registers_button"):
        doc = s.ensure_document(target)
        messages = []
        for name, data in demo_pages():
            r = import_bytes(s, data, name, doc.id)
            messages.append(("success", tr("scans.imported", name=name, pages=1)) if r.scans else
                            ("info", tr("scans.duplicate", name=name, ids=", ".join(f"#{d.id}" for d in r.duplicates))))
        st.session_state["import_messages"] = messages
        st.rerun()

flash("import_messages", "deleted_message")

# -- one scan opened ----------------------------------------------------------
open_id = st.session_state.get("open_scan")
scans_by_id = {sc.id: sc for sc in s.list_scans()}
if open_id in scans_by_id:
    sc = scans_by_id[open_id]
    with st.container(border=True):
        head, close = st.columns([6, 1])
        head.subheader(f"#{sc.id} · {sc.source_name}")
        if close.button(tr("scans.close"), key="close_scan"):
            st.session_state.pop("open_scan", None)
            st.rerun()
        st.caption(
            tr(
                "scans.details",
                w=sc.width,
                h=sc.height,
                fmt=sc.format,
                page=sc.page_no,
                size=f"{sc.byte_size / 1e6:.1f} MB",
                when=sc.created_at[:16].replace("T", " "),
            )
        )
        st.image(str(s.scan_path(sc)), width=720)

# -- thumbnail grid, grouped by document -----------------------------------------
shown_docs = [d for d in docs if current is None or d.id == current]
any_scan = False
COLS = 5
for doc in shown_docs:
    scans = s.list_scans(doc.id)
    if not scans:
        continue
    any_scan = True
    st.subheader(f"{doc.name} · {tr('scans.count', n=len(scans))}")
    for start in range(0, len(scans), COLS):
        cols = st.columns(COLS)
        for col, sc in zip(cols, scans[start : start + COLS]):
            with col.container(border=True):
                st.image(str(thumbnail_path(s, sc)), caption=f"p.{sc.page_no} · #{sc.id} {sc.source_name}")
                b1, b2 = st.columns(2)
                if b1.button(tr("scans.open"), key=f"open_{sc.id}"):
                    st.session_state["open_scan"] = sc.id
                    st.rerun()
                if b2.button(tr("scans.delete"), key=f"delete_{sc.id}"):
                    st.session_state["confirm_delete"] = sc.id
                    st.rerun()
                if st.session_state.get("confirm_delete") == sc.id:
                    stats = s.scan_stats(sc.id)
                    st.warning(tr("scans.confirm_delete", id=sc.id, name=sc.source_name, **stats))
                    c1, c2 = st.columns(2)
                    if c1.button(tr("scans.confirm"), key=f"confirm_delete_{sc.id}", type="primary"):
                        s.delete_scan(sc.id)
                        st.session_state.pop("confirm_delete", None)
                        if st.session_state.get("open_scan") == sc.id:
                            st.session_state.pop("open_scan")
                        st.session_state["deleted_message"] = tr("scans.deleted", id=sc.id)
                        st.rerun()
                    if c2.button(tr("scans.cancel"), key=f"cancel_delete_{sc.id}"):
                        st.session_state.pop("confirm_delete", None)
                        st.rerun()
if not any_scan:
    st.info(tr("scans.empty"))
