"""Models: the registry (versions, parent, data, metrics), set active, roll back, export, import safely."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._shell import flash, store, tr
from kuzushi_core.errors import KuzushiError
from kuzushi_core.i18n import STRINGS as FIGURES
from kuzushi_core.train.registry import card_summary, export_model_zip, import_model, rollback

s = store()
st.title(tr("models.title"))
flash("models_flash")
models = s.list_models()
names = {m.id: m.name for m in models}


def figure_name(key: str) -> str:
    """A measured figure's name in the UI's language (its code name where the catalogue has none)."""
    return tr(f"models.fig.{key}") if f"models.fig.{key}" in FIGURES else key


def figure_value(v) -> str:
    if isinstance(v, bool):
        return tr("models.yes") if v else tr("models.no")
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def metric(m) -> str:
    for k in ("val_accuracy", "kmnist_test_accuracy", "test_accuracy"):
        if k in m.metrics and m.metrics[k] is not None:
            return f"{figure_name(k)} {m.metrics[k]:.4f}"
    return ""


def show_card(rec) -> None:
    """The model card as a person reads it; the raw JSON one click away."""
    c = card_summary(s, rec)
    a, b, d = st.columns(3)
    a.metric(tr("models.card.classes"), c["classes"])
    if c["n_train"]:
        b.metric(tr("models.card.n_train"), f"{c['n_train']:,}")
    d.metric(tr("models.card.created"), c["created"])
    st.markdown(f"**{tr('models.card.sample')}**　<span lang=\"ja\">{c['sample']}</span>"
                + (" …" if c["classes"] > 40 else ""), unsafe_allow_html=True)
    lines = []
    if c["parent"]:
        lines.append(f"- **{tr('models.card.parent')}**: {c['parent']}")
    if c["trained_by"]:
        lines.append(f"- **{tr('models.card.trained_by')}**: {c['trained_by']}")
    if c["mode"]:
        lines.append(f"- **{tr('models.card.mode')}**: `{c['mode']}`")
    if c["data_source"]:
        lines.append(f"- **{tr('models.card.data')}**: `{c['data_source']}`")
    if c["per_class"]:
        lines.append(f"- **{tr('models.card.per_class')}**: {c['per_class'][0]}–{c['per_class'][1]}")
    if c["licence"]:
        # the card's own words, as written (a record, not the UI's text)
        lines.append(f"- **{tr('models.card.licence')}**: <span lang=\"en\">{c['licence']}</span>")
    st.markdown("\n".join(lines), unsafe_allow_html=True)
    if c["figures"]:
        st.markdown(f"**{tr('models.card.figures')}**")
        st.table(pd.DataFrame([{tr("models.card.figure"): figure_name(k), tr("models.card.value"): figure_value(v)}
                               for k, v in c["figures"].items()]))
    if c["command"]:
        st.caption(tr("models.card.command"))
        st.code(c["command"], language="bash")


if models:
    table = pd.DataFrame([{
        tr("models.col.id"): m.id, tr("models.col.name"): m.name, tr("models.col.active"): "●" if m.active else "",
        tr("models.col.parent"): f"#{m.parent_id} {names.get(m.parent_id, '')}" if m.parent_id else "",
        tr("models.col.classes"): f"{len(m.classes)}: {''.join(m.classes[:30])}",
        tr("models.col.metrics"): metric(m), tr("models.col.data"): str((m.card.get("data") or {}).get("source", ""))[:60],
        tr("models.col.created"): m.created_at[:19].replace("T", " "),
    } for m in reversed(models)])
    st.dataframe(table, hide_index=True, use_container_width=True)
    ids = [m.id for m in reversed(models)]
    c1, c2, c3 = st.columns([2, 1, 1])
    chosen = c1.selectbox(tr("models.choose"), ids, key="models_choose",
                          format_func=lambda i, n=names: f"#{i} {n[i]}")
    if c2.button(tr("models.activate"), key="models_activate"):
        s.set_active_model(chosen)
        st.session_state["models_flash"] = tr("models.activated", name=names[chosen])
        st.rerun()
    if c3.button(tr("models.rollback"), key="models_rollback"):
        try:
            m = rollback(s)
        except KuzushiError as exc:
            st.error(str(exc))
        else:
            st.session_state["models_flash"] = tr("models.activated", name=m.name)
            st.rerun()
    rec = s.get_model(chosen)
    try:
        st.download_button(tr("models.export"), export_model_zip(rec), file_name=f"{rec.name}.zip".replace("/", "_"),
                           mime="application/zip", key="models_export")
    except OSError as exc:
        st.error(tr("models.missing", error=str(exc)))
    st.subheader(tr("models.card_of", name=f"#{rec.id} {rec.name}"))
    show_card(rec)
    with st.expander(tr("models.card_json")):
        st.json({"classes": list(rec.classes), "metrics": rec.metrics, **rec.card}, expanded=False)
else:
    st.info(tr("models.none"))

st.subheader(tr("models.import"))
st.caption(tr("models.import_help"))
with st.form("models_import", clear_on_submit=True):
    files = st.file_uploader(tr("models.files"), type=["keras", "json"], accept_multiple_files=True, key="models_files")
    name = st.text_input(tr("models.name"), key="models_name")
    submitted = st.form_submit_button(tr("models.import_button"))
if submitted:
    keras_files = [f for f in files or [] if f.name.lower().endswith(".keras")]
    cards = [f for f in files or [] if f.name.lower().endswith(".json")]
    if len(keras_files) != 1:
        st.error(tr("models.need_one"))
    else:
        try:
            rec = import_model(s, keras_files[0].getvalue(), cards[0].getvalue() if cards else None,
                               name or keras_files[0].name.rsplit(".", 1)[0], filename=keras_files[0].name)
        except KuzushiError as exc:
            st.error(tr("models.refused", error=str(exc)))
        else:
            st.session_state["models_flash"] = tr("models.imported", name=rec.name, n=len(rec.classes))
            st.rerun()
