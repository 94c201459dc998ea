"""Ledger: a register page as a table of lots — the form's cells, a template marked once per volume, the
lots read and checked, a flagged value fixed by clicking the right character, the lots exported."""

from __future__ import annotations

import cv2
import pandas as pd
import streamlit as st
from streamlit_image_coordinates import streamlit_image_coordinates

from app_pages._shell import flash, lang, pick_scan, store, tr, user_name
from kuzushi_core.crops import crop_box
from kuzushi_core.data import export
from kuzushi_core.errors import KuzushiError
from kuzushi_core.imaging import read_image
from kuzushi_core.ledger import workspace as lw
from kuzushi_core.ledger.lots import ALPHABETS, PARTNER, fixes
from kuzushi_core.ledger.templates import FIELDS, Template, TemplateError, make_template, place
from kuzushi_core.segment.overlay import display_scale, page_point

s = store()
st.title(tr("ledger.title"))
st.caption(tr("ledger.intro"))
scan = pick_scan("ledger_scan")
assert scan is not None
model = s.active_model()


@st.cache_data(max_entries=4, show_spinner=False)
def page_image(path: str):
    return read_image(path)


try:
    with st.spinner(tr("ledger.finding_cells")):
        cells, angle = lw.page_cells(s, scan)
except KuzushiError as exc:
    st.error(str(exc))
    st.stop()
templates = s.list_templates(scan.document_id)
picks: list = st.session_state.setdefault("ledger_picks", {}).setdefault(scan.id, [])
selected = st.session_state.get("ledger_cell")
tpl_names = {t["id"]: t["name"] for t in templates}
if "ledger_template_pending" in st.session_state:
    st.session_state["ledger_template"] = st.session_state.pop("ledger_template_pending")
if st.session_state.get("ledger_template") not in tpl_names:  # another volume's template, or none yet
    st.session_state["ledger_template"] = lw.preferred_template(templates)  # a hand-marked one wins
template_id = st.selectbox(tr("ledger.template"), [None] + list(tpl_names), key="ledger_template",
                           format_func=lambda i: tr("ledger.no_template") if i is None else f"#{i} {tpl_names[i]}")

# -- the page with its cells ----------------------------------------------------------------------------
page = page_image(str(s.scan_path(scan)))
scale = display_scale(page.shape, 1100, 1400)
img = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale != 1 else page.copy()
picked = {i for i, _, _ in picks}
for i, c in enumerate(cells):
    colour = (220, 20, 60) if i == selected else ((0, 158, 115) if i in picked else (0, 114, 178))
    p0 = (int(c.x * scale), int(c.y * scale))
    p1 = (int((c.x + c.w) * scale), int((c.y + c.h) * scale))
    cv2.rectangle(img, p0, p1, colour, 3 if i == selected else 1)
    cv2.putText(img, str(i), (p0[0] + 4, p0[1] + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
proposal = st.session_state.get("ledger_proposal")
proposal = Template.from_json(proposal[1]) if proposal and proposal[0] == scan.id else None
if proposal is not None:  # the proposed fields, drawn thick in green over the cells they take
    for _f, box, _ in place(proposal, cells):
        x, y, w, h = (int(v * scale) for v in box)
        cv2.rectangle(img, (x + 4, y + 4), (x + w - 4, y + h - 4), (0, 158, 115), 3)
reading = None
if template_id and model is not None and any(b.has_flag("ledger") for b in s.list_boxes(scan.id)):
    reading = lw.read_page(s, scan, template_id, model)
    for k, lot in enumerate(reading.lots):
        for fl in lot.flags:
            box = reading.places.get((k, fl.field))
            if box:
                x, y, w, h = (int(v * scale) for v in box)
                cv2.rectangle(img, (x + 3, y + 3), (x + w - 3, y + h - 3), (230, 159, 0), 3)

left, right = st.columns([3, 2])
with left:
    st.caption(tr("ledger.cells", n=len(cells), angle=angle))
    event = streamlit_image_coordinates(img, key=f"ledger_canvas_{scan.id}", width="stretch", image_format="JPEG",
                                        jpeg_quality=85, cursor="pointer")
    if event and event != st.session_state.get("ledger_last_event"):
        st.session_state["ledger_last_event"] = event
        x, y = page_point(event.get("x", 0), event.get("y", 0), event.get("width"), scan.width, scale)
        hit = next((i for i, c in enumerate(cells) if c.x <= x < c.x + c.w and c.y <= y < c.y + c.h), None)
        if hit is not None:
            st.session_state["ledger_cell"] = hit
            st.rerun()

# -- the template editor ---------------------------------------------------------------------------------
with right:
    if model is not None and st.button(tr("ledger.propose"), key="ledger_propose", help=tr("ledger.propose_help"),
                                       type="secondary" if templates else "primary"):
        try:
            with st.spinner(tr("ledger.proposing")):
                made = lw.propose(s, scan, model)
        except KuzushiError as exc:  # no ruling, no headings: say why; the hand editor stays
            st.error(str(exc))
        else:
            st.session_state["ledger_proposal"] = (scan.id, made.to_json())
            st.rerun()
    if proposal is not None:
        heads = list(dict.fromkeys(f.heading for f in proposal.fields))
        n_lots = len({f.lot for f in proposal.fields if f.lot >= 0})
        with st.container(border=True, key="ledger_proposal_box"):
            st.markdown(tr("ledger.proposal", n=n_lots, heads="・".join(heads)))
            row = st.container(horizontal=True)  # buttons as wide as their words
            p1 = p2 = p3 = row
            if p1.button(tr("ledger.accept"), key="ledger_accept", type="primary"):
                new_id = s.save_template(scan.document_id, proposal.name, proposal.to_json(), scan.id)
                st.session_state.pop("ledger_proposal", None)
                st.session_state["ledger_template_pending"] = new_id
                st.session_state["ledger_flash"] = tr("ledger.saved", name=proposal.name)
                st.rerun()
            if p2.button(tr("ledger.correct"), key="ledger_correct", help=tr("ledger.correct_help")):
                picks[:] = [(i, f.name, f.lot) for f, _, i in place(proposal, cells) if i >= 0 and f.name in FIELDS]
                st.session_state.pop("ledger_proposal", None)
                st.rerun()
            if p3.button(tr("ledger.discard"), key="ledger_discard"):
                st.session_state.pop("ledger_proposal", None)
                st.rerun()
    with st.expander(tr("ledger.editor"), expanded=not templates or bool(picks)):
        st.write(tr("ledger.editor_help"))
        st.write(tr("ledger.selected", i=selected) if selected is not None else tr("ledger.select_cell"))
        fcol, lcol = st.columns([2, 1])
        name = fcol.selectbox(tr("ledger.field"), list(FIELDS), key="ledger_field",
                              format_func=lambda k, en=lang() == "en": f"{FIELDS[k][0]} ({k})" if en else FIELDS[k][0])
        lot_no = lcol.number_input(tr("ledger.lot"), 1, 50, 1, key="ledger_lot")
        if st.button(tr("ledger.assign"), key="ledger_assign", disabled=selected is None):
            picks[:] = [p for p in picks if p[0] != selected and (p[1], p[2]) != (name, lot_no - 1)]
            picks.append((selected, name, int(lot_no) - 1))
            st.rerun()
        if picks:
            st.dataframe(pd.DataFrame([{tr("ledger.col.cell"): i, tr("ledger.col.field"): FIELDS[n][0],
                                        tr("ledger.col.lot"): tr("ledger.every_lot") if lot < 0 else str(lot + 1)}
                                       for i, n, lot in picks]),
                         hide_index=True, key="ledger_picks_table")
        tname = st.text_input(tr("ledger.template_name"), key="ledger_tpl_name")
        if st.button(tr("ledger.save_template"), key="ledger_save_tpl", disabled=not picks):
            try:
                tpl = make_template(tname or f"p.{scan.page_no}", cells, picks)
            except TemplateError as exc:
                st.error(str(exc))
            else:
                new_id = s.save_template(scan.document_id, tpl.name, tpl.to_json(), scan.id)
                st.session_state["ledger_picks"][scan.id] = []
                st.session_state["ledger_template_pending"] = new_id  # chosen on the next run, before the widget
                st.session_state["ledger_flash"] = tr("ledger.saved", name=tpl.name)
                st.rerun()
    flash("ledger_flash")
    if template_id:
        if model is None:
            st.warning(tr("read.no_model"))
        elif st.button(tr("ledger.read"), type="primary", key="ledger_read"):
            try:
                with st.spinner(tr("ledger.reading")):
                    n = lw.prepare(s, scan, template_id, model)
            except KuzushiError as exc:  # e.g. a page without ruled cells: say so, keep what is stored
                st.error(str(exc))
            else:
                st.session_state["ledger_flash"] = tr("ledger.read_done", n=n)
                st.rerun()

if reading is None:
    st.stop()

# -- the lots ---------------------------------------------------------------------------------------------
def flag_text(fl) -> str:
    """A check's finding in the UI's language (the exports keep the English ``reason``)."""
    return tr(f"ledger.flag.{fl.code}", **dict(fl.figures)) if fl.code else fl.reason


st.subheader(tr("ledger.lots"))
rows = lw.lot_rows(reading, next((d.name for d in s.list_documents() if d.id == scan.document_id), ""))
frame = pd.DataFrame(rows, columns=list(lw.LOT_COLUMNS))
shown = frame[["lot", "heading", "text", "value", "unit", "confidence", "source", "flag"]].assign(
    value=frame["value"].map(lambda v: "" if v is None else str(v)))  # numbers, dates and names in one column
said = {(k + 1, fl.field): flag_text(fl) for k, lot in enumerate(reading.lots) for fl in lot.flags}
said |= {(0, fl.field): flag_text(fl) for fl in reading.flags}
shown["flag"] = [said.get((lot, fld)) or (tr("ledger.flag.unparsed", error=fl_) if fl_ else "")
                 for lot, fld, fl_ in zip(frame["lot"], frame["field"], frame["flag"])]
shown["source"] = shown["source"].map(lambda v: tr(f"read.source.{v}") if v in ("user", "auto", "import") else v)
flagged_rows = shown["flag"].astype(bool).tolist()
shown = shown.rename(columns={c: tr(f"ledger.col.{c}") for c in shown.columns})
st.dataframe(shown.style.apply(lambda r: ["background-color: #fde2b8" if flagged_rows[r.name] else "" for _ in r],
                               axis=1), hide_index=True, width="stretch", key="ledger_lots_table")
c1, c2, c3, c4 = st.columns(4)
wide = export.lots_wide(rows)
c1.download_button(tr("ledger.csv_wide"), export.export_csv_text(wide).encode("utf-8"), f"lots_{scan.id}.csv",
                   "text/csv", key="ledger_csv_wide", help=tr("ledger.csv_help"))
c2.download_button(tr("ledger.csv"), (export.BOM + export.lots_csv(rows)).encode("utf-8"), f"lot_fields_{scan.id}.csv",
                   "text/csv", key="ledger_csv", help=tr("ledger.csv_help"))
c3.download_button(tr("ledger.xlsx"), export.to_xlsx({"lots": wide, "lot fields": rows}), f"lots_{scan.id}.xlsx",
                   export.MIME["xlsx"], key="ledger_xlsx")
c4.download_button(tr("ledger.json"), export.lots_json(rows).encode("utf-8"), f"lots_{scan.id}.json",
                   "application/json", key="ledger_json")

for fl in reading.flags:  # the page's own: a written 計 that is not the sum of the lots
    st.warning(f"{FIELDS.get(fl.field, (fl.field,))[0]}: {flag_text(fl)}")
flagged = [(k, fl) for k, lot in enumerate(reading.lots) for fl in lot.flags]
if flagged:
    st.subheader(tr("ledger.flagged", n=len(flagged)))
preds = s.predictions(scan.id, model.id)
boxes = {b.id: b for b in s.list_boxes(scan.id)}
seen = set()
for k, fl in flagged:
    if (k, fl.field) in seen or fl.field not in reading.lots[k].fields:
        continue
    seen.add((k, fl.field))
    f = reading.lots[k].fields[fl.field]
    with st.container(border=True, key=f"ledger_flag_{k}_{fl.field}"):
        st.markdown(f"**{FIELDS.get(fl.field, (fl.field,))[0]}** ({tr('ledger.lot')} {k + 1}): `{f.text}` — {flag_text(fl)}")
        ids = reading.boxes.get((k, fl.field), [])
        cols = st.columns(max(1, len(ids)))
        allowed = ALPHABETS.get(f.kind, "")
        for col, bid in zip(cols, ids):
            b = boxes[bid]
            col.image(crop_box(page, b.x, b.y, b.w, b.h, margin=0.1), width=56)
            cands = [c for c, _ in preds[bid].candidates if not allowed or c in allowed][:3] if bid in preds else []
            for j, c in enumerate(cands):
                if col.button(c, key=f"ledger_fix_{bid}_{j}"):
                    s.add_label(bid, c, labelled_by=user_name())
                    st.rerun()
        # the field's other readings that parse (and, for a 地租 that does not agree, its 地価's): one click each
        offers = fixes(reading.lots[k], [fl.field, *([PARTNER[fl.field]] if fl.code == "tax" else [])])
        if offers:
            st.caption(tr("ledger.offers"))
            for j, (col, fx) in enumerate(zip(st.columns(len(offers)), offers)):
                if col.button(f"{FIELDS.get(fx.field, (fx.field,))[0]} {fx.text}{' ✓' if fx.agrees else ''}",
                              key=f"ledger_offer_{k}_{fl.field}_{j}",
                              help=tr("ledger.offer_agrees") if fx.agrees else None):
                    s.add_field_edit(scan.id, template_id, k, fx.field, fx.text, edited_by=user_name())
                    st.rerun()
        t1, t2 = st.columns([3, 1])
        typed = t1.text_input(tr("ledger.type"), f.text, key=f"ledger_edit_{k}_{fl.field}")
        if t2.button(tr("ledger.save"), key=f"ledger_save_{k}_{fl.field}") and typed.strip():
            s.add_field_edit(scan.id, template_id, k, fl.field, typed.strip(), edited_by=user_name())
            st.rerun()
if not flagged:
    st.success(tr("ledger.no_flags"))
