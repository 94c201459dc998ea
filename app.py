"""Kuzushi Lab: the Streamlit entry point (``streamlit run app.py``)."""

from __future__ import annotations

import streamlit as st

from app_pages._shell import init_language, sidebar, tr

st.set_page_config(page_title="Kuzushi Lab", page_icon=":material/history_edu:", layout="wide")

init_language()
# A document created in the sidebar is selected on the next run, before the widget exists.
if "pending_document_id" in st.session_state:
    st.session_state["document_id"] = st.session_state.pop("pending_document_id")

pages = [
    # The default page is served at "/" only; the same page at "/home" (hidden from the menu) keeps that
    # address, which users type and bookmark, from answering "Page not found".
    st.Page("app_pages/home.py", title=tr("nav.home"), icon=":material/home:", url_path="start", default=True),
    st.Page("app_pages/home.py", title=tr("nav.home"), icon=":material/home:", url_path="home", visibility="hidden"),
    st.Page("app_pages/scans.py", title=tr("nav.scans"), icon=":material/photo_library:", url_path="scans"),
    st.Page("app_pages/segment.py", title=tr("nav.segment"), icon=":material/grid_on:", url_path="segment"),
    st.Page("app_pages/read.py", title=tr("nav.read"), icon=":material/translate:", url_path="read"),
    st.Page("app_pages/ledger.py", title=tr("nav.ledger"), icon=":material/table_view:", url_path="ledger"),
    st.Page("app_pages/evaluate.py", title=tr("nav.evaluate"), icon=":material/fact_check:", url_path="evaluate"),
    st.Page("app_pages/queue.py", title=tr("nav.queue"), icon=":material/low_priority:", url_path="queue"),
    st.Page("app_pages/augment.py", title=tr("nav.augment"), icon=":material/auto_awesome:", url_path="augment"),
    st.Page("app_pages/train.py", title=tr("nav.train"), icon=":material/model_training:", url_path="train"),
    st.Page("app_pages/models.py", title=tr("nav.models"), icon=":material/inventory_2:", url_path="models"),
    st.Page("app_pages/export.py", title=tr("nav.export"), icon=":material/download:", url_path="export"),
]
nav = st.navigation(pages)
sidebar()
nav.run()
