"""Export: transcriptions and per-character tables for analysis, PAGE XML for other tools, labelled crops."""

from __future__ import annotations

import io
import zipfile

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
FORMATS = ["csv", "json", "text", "pagexml", "npz", "crops"]
fmt = c2.radio(tr("export.format"), FORMATS, horizontal=True, key="export_format",
               format_func=lambda f, labels={f: tr(f"export.fmt.{f}") for f in FORMATS}: labels[f])
chosen = scans
st.caption(tr("export.model", model=f"{model.name} (#{model.id})" if model else "—"))
stem = "kuzushi-" + (picked.source_name.rsplit(".", 1)[0] if picked else "export")
try:
    if fmt in ("csv", "json", "text", "pagexml"):
        pages = export.page_rows(s, chosen, model)
        rows = [r for p in pages for r in p.rows]
        if fmt == "csv":
            data, name, mime = export.to_csv(rows).encode("utf-8"), f"{stem}.csv", "text/csv"
        elif fmt == "json":
            data, name, mime = export.to_json(pages, model).encode("utf-8"), f"{stem}.json", "application/json"
        elif fmt == "text":
            data, name, mime = export.to_text(pages).encode("utf-8"), f"{stem}.txt", "text/plain"
        elif len(pages) == 1:
            data, name, mime = export.to_page_xml(pages[0]).encode("utf-8"), f"{stem}.xml", "application/xml"
        else:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for p in pages:
                    z.writestr(f"page/{p.scan.id}-{p.scan.source_name.rsplit('.', 1)[0]}.xml", export.to_page_xml(p))
            data, name, mime = buf.getvalue(), f"{stem}-pagexml.zip", "application/zip"
        st.caption(tr("export.rows", n=len(rows), user=sum(r["source"] == "user" for r in rows)))
        if fmt in ("csv", "text"):
            st.code(data.decode("utf-8")[:1500], language=None)
    else:
        items = export.labelled_crops(s, chosen)
        if fmt == "npz":
            data, name, mime = export.to_seed_npz(items), f"{stem}.npz", "application/octet-stream"
        else:
            data, name, mime = export.to_crops_zip(items), f"{stem}-crops.zip", "application/zip"
        st.caption(tr("export.crops", n=len(items), k=len({c for c, _, _ in items})))
except KuzushiError as exc:
    st.warning(str(exc))
    st.stop()
st.download_button(tr("export.download", name=name), data, file_name=name, mime=mime, key="export_download",
                   type="primary")
