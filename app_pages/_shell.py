"""What every page shares: the workspace, the language, the current document.

Only UI state lives here; every decision is made in ``kuzushi_core``.
"""

from __future__ import annotations

import streamlit as st

from kuzushi_core.containers import Scan
from kuzushi_core.errors import KuzushiError
from kuzushi_core.i18n import DEFAULT_LANGUAGE, LANGUAGES, QUERY_KEY, SETTING_KEY, WHO_KEY, choose_language, t
from kuzushi_core.predict.reading import ensure_default_model
from kuzushi_core.store import DEFAULT_DOCUMENT, Store, default_workspace, person_name


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    s = Store(path)
    try:
        ensure_default_model(s)  # the shipped model, registered once per workspace
    except KuzushiError as exc:  # a broken shipped model must not keep the app from opening
        st.session_state["model_error"] = str(exc)
    return s


def store() -> Store:
    return _open_store(str(st.session_state.get("workspace_path") or default_workspace()))


def lang() -> str:
    return st.session_state.get("lang", DEFAULT_LANGUAGE)


def init_language() -> None:
    """Once per browser session: the language from the URL, else the workspace's last choice; then
    keep it in the URL on every run (page switches drop the query)."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = choose_language(st.query_params.get_all(QUERY_KEY),
                                                   store().get_setting(SETTING_KEY))
    if st.query_params.get(QUERY_KEY) != lang():
        st.query_params[QUERY_KEY] = lang()
    if "user_name" not in st.session_state:
        st.session_state["user_name"] = person_name(st.query_params.get(WHO_KEY))
    if user_name() and st.query_params.get(WHO_KEY) != user_name():
        st.query_params[WHO_KEY] = user_name()


def user_name() -> str:
    """The name of the person using this browser session ('' until they give one): recorded with their labels,
    field edits and training runs."""
    return st.session_state.get("user_name", "")


def who_label(name: str) -> str:
    """A person's name as shown ("(no name)" for labels given before names were recorded, or without one)."""
    return name or tr("who.nobody")


def _name_changed() -> None:
    st.session_state["user_name"] = person_name(st.session_state["user_name_input"])
    if st.session_state["user_name"]:
        st.query_params[WHO_KEY] = st.session_state["user_name"]
    else:
        st.query_params.pop(WHO_KEY, None)


def tr(key: str, **kwargs: object) -> str:
    return t(key, lang(), **kwargs)


def flash(*keys: str) -> None:
    """The page's one-off messages (set by a callback or before a rerun; a text is a success, a list holds
    ``(kind, text)`` pairs), in one slot drawn on every run: a message that appears must not move the elements below
    it to new places in the page's tree, or the browser draws them anew (a chart is empty while it loads, the page is
    short, and the reader's scroll position jumps to the top); and a message of the run before is gone as soon as a
    new run starts (an empty placeholder replaces it at once, where a container would keep it until the run ends)."""
    shown = []
    for key in keys:
        value = st.session_state.pop(key, None)
        if isinstance(value, str):
            shown.append(("success", value))
        elif value:
            shown += list(value)
    slot = st.empty()
    if shown:
        with slot.container():
            for kind, text in shown:
                getattr(st, kind)(text)


ALL_DOCUMENTS = 0  # a sentinel id: SQLite ids start at 1


def current_document_id() -> int | None:
    """The document chosen in the sidebar, or None for all documents."""
    return st.session_state.get("document_id") or None


def document_label(name: str) -> str:
    """A document's name as shown: the default document ("Unsorted" in the store) in the UI's language."""
    return tr("doc.unsorted") if name == DEFAULT_DOCUMENT else name


def scan_label(scan: Scan) -> str:
    """How a page is named in every picker: its page number in the document, its id and file name."""
    return f"p.{scan.page_no} · #{scan.id} {scan.source_name}"


def pick_scan(key: str, label_key: str = "seg.scan", where=None, all_label: str | None = None) -> Scan | None:
    """The one scan picker of the pages: the current document's scans (the page stops with a note when there are
    none); with ``all_label`` an "all pages" choice first, which returns None."""
    scans = store().list_scans(current_document_id())
    if not scans:
        st.info(tr("seg.no_scans"))
        st.stop()
    by_id = {sc.id: sc for sc in scans}
    options = ([0] if all_label else []) + list(by_id)
    chosen = (where or st).selectbox(tr(label_key), options, key=key,
                                     format_func=lambda i: all_label if i == 0 else scan_label(by_id[i]))
    return by_id[chosen] if chosen else None


def _language_changed() -> None:
    """Keep the new language, and re-assert every widget value after a language switch.

    Widgets whose option labels are translated (``format_func``) get a new identity when the language
    changes; the browser would then show them empty and send back nothing. Writing each value into the
    session state again makes Streamlit send it to the browser with the re-labelled widget.
    """
    st.session_state["lang"] = st.session_state["lang_choice"]
    st.query_params[QUERY_KEY] = st.session_state["lang"]
    store().set_setting(SETTING_KEY, st.session_state["lang"])
    for key, value in list(st.session_state.items()):
        # choices only (radio, selectbox, number, slider, text): buttons, uploaders, forms and chart selections
        # must not be assigned (Streamlit refuses them when the widget is drawn again)
        if key in ("lang", "lang_choice") or isinstance(value, bool) or not isinstance(value, (str, int, float)):
            continue
        try:
            st.session_state[key] = value
        except Exception:  # noqa: BLE001 - a key that cannot be set holds no choice to keep
            pass


def sidebar() -> None:
    """Language switch, workspace, document and active model."""
    s = store()
    # the language lives in a plain session key: a widget's own state is dropped by st.switch_page, and the UI
    # would fall back to Japanese when a page sends the user to another one
    st.session_state["lang_choice"] = lang()
    with st.sidebar:
        st.radio(
            t("sidebar.language", lang()),
            options=list(LANGUAGES),
            format_func=LANGUAGES.get,
            key="lang_choice",
            horizontal=True,
            on_change=_language_changed,
        )
        # like the language: a plain session key behind the widget, which st.switch_page would drop
        st.session_state["user_name_input"] = user_name()
        st.text_input(tr("sidebar.name"), key="user_name_input", help=tr("sidebar.name_help"),
                      on_change=_name_changed, max_chars=40)
        if not user_name():
            st.caption(tr("sidebar.no_name"))
        st.caption(f"{tr('sidebar.workspace')}: `{s.root}`")
        docs = s.list_documents()
        options = [ALL_DOCUMENTS] + [d.id for d in docs]
        names = {d.id: document_label(d.name) for d in docs}
        if st.session_state.get("document_id") not in options:
            st.session_state["document_id"] = ALL_DOCUMENTS
        st.selectbox(
            tr("sidebar.document"),
            options=options,
            format_func=lambda i, all_label=tr("sidebar.all_documents"): all_label if i == ALL_DOCUMENTS else names[i],
            key="document_id",
        )
        with st.popover(tr("sidebar.new_document")):
            with st.form("new_document", clear_on_submit=True, border=False):
                name = st.text_input(tr("sidebar.new_document"), key="new_document_name")
                if st.form_submit_button(tr("sidebar.create")) and name.strip():
                    doc = s.ensure_document(name)
                    st.session_state["pending_document_id"] = doc.id
                    st.rerun()
        model = s.active_model()
        st.caption(f"{tr('sidebar.active_model')}: {model.name if model else tr('sidebar.no_model')}")
