"""The "learn from my corrections" panel of the Read and Label-next pages: one click queues an adaptation run
(kuzushi_core.train.adapt, in the background worker); the panel follows it and shows the new version's score on the
held-out labels beside its parent's, and whether it was made active."""

from __future__ import annotations

import streamlit as st

from app_pages._shell import current_document_id, tr, user_name
from kuzushi_core.errors import KuzushiError
from kuzushi_core.train import jobs


def _latest_adapt(s):
    runs = [r for r in s.list_runs() if r.config.get("kind") == "adapt"]
    return runs[0] if runs else None  # list_runs: newest first


def learn_panel(s, key: str) -> None:
    model = s.active_model()
    doc = current_document_id()
    docs = {d.id: d.name for d in s.list_documents()}
    scan_ids = {sc.id for sc in s.list_scans(doc)}
    n = sum(len(s.current_labels(sid)) for sid in scan_ids)
    st.subheader(tr("learn.title"))
    st.caption(tr("learn.help"))
    run = _latest_adapt(s)
    busy = run is not None and run.status in ("queued", "running")
    if st.button(tr("learn.go", n=n), key=f"{key}_learn", disabled=busy or n == 0 or model is None,
                 type="primary"):
        try:
            jobs.submit(s, {"kind": "adapt", "base_model_id": model.id, "document": docs.get(doc) if doc else None,
                            "name": ""}, started_by=user_name())
        except KuzushiError as exc:
            st.error(str(exc))
        else:
            st.rerun()
    if n == 0:
        st.caption(tr("learn.none"))
    _status(s, key, busy)


def _status(s, key: str, busy: bool) -> None:
    @st.fragment(run_every=1.0 if busy else None)
    def live() -> None:
        jobs.reap(s)
        run = _latest_adapt(s)
        if run is None:
            return
        if busy and run.status not in ("queued", "running"):
            st.rerun()  # the run ended: draw the page again with the new readings
        if run.status == "queued":
            jobs.ensure_worker(s)
            st.info(tr("learn.queued"))
            return
        if run.status == "running":
            eta = jobs.eta_seconds(run)
            text = tr("learn.running", stage=run.metrics.get("stage", "…")) + (
                f" · {tr('train.eta', s=eta)}" if eta is not None else "")
            st.progress(min(max(run.progress, 0.0), 1.0), text=text)
            return
        if run.status in ("failed", "cancelled"):
            st.error(tr("learn.failed", error=run.error or run.status))
            return
        m = run.metrics
        sc = m.get("scores") or {}
        h = sc.get("holdout")
        if h:
            st.metric(tr("learn.scores", n=h["n"], parent=h["parent"], new=h["new"]), f"{h['new']:.0%}",
                      delta=f"{(h['new'] - h['parent']) * 100:+.1f} pt")
        if "kmnist_val" in sc and "renders" in sc:
            st.caption(tr("learn.old", kp=sc["kmnist_val"]["parent"], kn=sc["kmnist_val"]["new"],
                          rp=sc["renders"]["parent"], rn=sc["renders"]["new"]))
        ch = m.get("changes") or {}
        if m.get("activated"):
            st.success(tr("learn.activated", id=run.model_id, changed=ch.get("changed", 0),
                          fixed=ch.get("now_agree", 0)))
        else:
            why = "; ".join(m.get("reasons") or []) or tr("learn.worse_why")
            st.warning(tr("learn.kept", id=run.model_id, why=why))
            active = s.active_model()
            if run.model_id and (active is None or active.id != run.model_id):
                if st.button(tr("learn.activate", id=run.model_id), key=f"{key}_learn_activate_{run.id}"):
                    s.set_active_model(run.model_id)
                    st.session_state["read_message"] = tr("learn.made_active", id=run.model_id)
                    st.rerun()

    live()
