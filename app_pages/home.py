import streamlit as st

from app_pages._shell import store, tr

s = store()
st.title(tr("app.title"))
st.write(tr("app.tagline"))
st.write(
    tr("home.counts", docs=len(s.list_documents()), scans=len(s.list_scans()), labels=s.count_labels())
)
st.markdown(tr("home.steps"))
