"""Export: transcriptions and per-character tables for analysis, PAGE XML for other tools, labelled crops."""

from __future__ import annotations

import streamlit as st

from app_pages._shell import current_document_id, pick_scan, store, tr
from kuzushi_core.data import export
from kuzushi_core.errors import KuzushiError

s = store()
st.title(tr("export.title"))
model = s.active_model()
c1, c2 = st.columns(2)
picked = pick_scan("export_scan", "export.pages", where=c1, all_label=tr("export.all"))
scans = [picked] if picked else s.list_scans(current_document_id())
FORMATS = [f for f in export.FORMATS if f != "lots"]  # the lots: the Ledger page
fmt = c2.radio(tr("export.format"), FORMATS, horizontal=True, key="export_format",
               format_func=lambda f, labels={f: tr(f"export.fmt.{f}") for f in FORMATS}: labels[f])
st.caption(tr("export.model", model=f"{model.name} (#{model.id})" if model else "—"))
stem = "kuzushi-" + (picked.source_name.rsplit(".", 1)[0] if picked else "export")
excel = fmt == "csv" and st.checkbox(tr("export.excel"), value=True, key="export_excel", help=tr("export.excel_help"))
try:
    result = export.export_file(s, scans, fmt, model, stem, excel=excel)
except KuzushiError as exc:
    st.warning(str(exc))
    st.stop()
if fmt in ("npz", "crops"):
    st.caption(tr("export.crops", n=result.counts["crops"], k=result.counts["classes"]))
else:
    st.caption(tr("export.rows", n=result.counts["rows"], user=result.counts["user"]))
if fmt in ("csv", "text"):
    st.code(result.data.decode("utf-8-sig")[:1500], language=None)
data, name, mime = result.data, result.name, result.mime
st.download_button(tr("export.download", name=name), data, file_name=name, mime=mime, key="export_download",
                   type="primary")
