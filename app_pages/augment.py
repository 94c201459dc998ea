"""Augment: preview every augmentation knob on the user's own crops, see harm warnings, save a config."""

from __future__ import annotations

import base64
import time
from dataclasses import asdict, fields

import numpy as np
import streamlit as st

from app_pages._shell import flash, lang, store, tr
from kuzushi_core.crops import crop_box, to_glyph
from kuzushi_core.data.datasets import workspace_items
from kuzushi_core.imaging import read_image
from kuzushi_core.train import augment as aug

s = store()
st.title(tr("aug.title"))
st.caption(tr("aug.intro"))
flash("aug_flash")

RANDOM = ""


def png_data_uri(img: np.ndarray) -> str:
    from kuzushi_core.imaging import encode_png

    return "data:image/png;base64," + base64.b64encode(encode_png(img)).decode()


@st.cache_data(max_entries=8, show_spinner=False)
def crops_for(root: str, char: str, stamp: tuple) -> np.ndarray:
    """Glyphs of one labelled class, or of up to 64 random boxes of the workspace (``stamp`` busts the cache)."""
    from kuzushi_core.store import Store

    st_ = Store(root, create=False)
    if char:
        glyphs, chars, _, _ = workspace_items(st_, 28)
        return glyphs[[i for i, c in enumerate(chars) if c == char]]
    rng = np.random.default_rng(0)
    out = []
    for scan in st_.list_scans():
        boxes = st_.list_boxes(scan.id)
        if not boxes:
            continue
        page = read_image(st_.scan_path(scan), gray=True)
        for i in rng.permutation(len(boxes))[:32]:
            b = boxes[int(i)]
            out.append(to_glyph(crop_box(page, b.x, b.y, b.w, b.h), 28))
        if len(out) >= 64:
            break
    return np.stack(out) if out else np.zeros((0, 28, 28), np.uint8)


with st.expander(tr("aug.synth"), expanded=False):
    from kuzushi_core.synth import fonts as synth_fonts
    from kuzushi_core.synth.render import SynthConfig, samples_for

    st.caption(tr("aug.synth_help"))
    faces = synth_fonts.available()
    if not faces:
        st.warning(tr("read.no_fonts", packages=", ".join(synth_fonts.missing_packages())))
    else:
        cs1, cs2 = st.columns([3, 1])
        synth_char = cs1.text_input(tr("aug.synth_char"), value="地", max_chars=1, key="aug_synth_char").strip()
        synth_seed = int(cs2.number_input(tr("aug.seed"), 0, 10_000, 0, key="aug_synth_seed"))
        covering = synth_fonts.faces_for(synth_char, faces) if synth_char else ()
        if synth_char and not covering:
            st.warning(tr("aug.synth_none", char=synth_char))
        elif synth_char:
            grid = samples_for(synth_char, covering, 32, synth_seed, SynthConfig(), others=tuple("のしにて一人大日"))
            st.markdown(f'<img alt="synthetic {synth_char}" src="{png_data_uri(aug.montage(grid, 8, 3))}">',
                        unsafe_allow_html=True)
            st.caption(tr("aug.synth_faces", faces=", ".join(f.name for f in covering)))

counts = s.label_counts()
stamp = (len(s.list_scans()), sum(counts.values()), s.count_labels())
c_src, c_preset, c_seed = st.columns([2, 2, 1])
char = c_src.selectbox(tr("aug.source"), [RANDOM] + list(counts), key="aug_source",
                       format_func=lambda c, r=tr("aug.random"), n=counts: r if c == RANDOM else f"{c} ({n[c]})")
glyphs = crops_for(str(s.root), char, stamp)
if not len(glyphs):
    st.info(tr("aug.no_crops"))
    st.stop()

presets = {**aug.PRESETS, **{f"★ {k}": aug.from_dict(v) for k, v in s.augment_configs().items()}}
KNOBS = [f.name for f in fields(aug.AugmentConfig)]


def load_preset() -> None:
    cfg = presets[st.session_state["aug_preset"]]
    for k, v in asdict(cfg).items():
        st.session_state[f"aug_{k}"] = v


if "aug_rotation_range" not in st.session_state:
    st.session_state["aug_preset"] = aug.DEFAULT_PRESET
    load_preset()
c_preset.selectbox(tr("aug.preset"), list(presets), key="aug_preset", on_change=load_preset,
                   format_func=lambda p, shown={p: tr(f"aug.preset.{p}") if p in aug.PRESETS else p for p in presets}:
                   shown[p])
seed = c_seed.number_input(tr("aug.seed"), 0, 9999, key="aug_seed_value", value=0)

left, right = st.columns([1, 2])
fill_labels = {m: tr(f"aug.fill.{m}") for m in aug.FILL_MODES}
with left:
    g = st.columns(2)

    def kw(name: str) -> dict:
        """A knob's plain label (what it does to a character), its key, and its Keras name in the help."""
        return {"label": tr(f"aug.knob.{name}"), "key": f"aug_{name}", "help": tr(f"aug.knob.{name}.help")}

    g[0].slider(min_value=0.0, max_value=45.0, step=1.0, **kw("rotation_range"))
    g[1].slider(min_value=0.0, max_value=30.0, step=1.0, **kw("shear_range"))
    g[0].slider(min_value=0.0, max_value=0.3, step=0.01, **kw("width_shift_range"))
    g[1].slider(min_value=0.0, max_value=0.3, step=0.01, **kw("height_shift_range"))
    g[0].slider(min_value=0.0, max_value=0.5, step=0.01, **kw("zoom_range"))
    g[1].selectbox(options=aug.FILL_MODES, format_func=lambda m, f=fill_labels: f[m], **kw("fill_mode"))
    g[0].slider(min_value=0.0, max_value=255.0, step=1.0, **kw("cval"))
    g[1].selectbox(options=[1.0, 1 / 255], **kw("rescale"),
                   format_func=lambda v, a=tr("aug.rescale.1"), b=tr("aug.rescale.255"): a if v == 1 else b)
    g[0].toggle(**kw("horizontal_flip"))
    g[1].toggle(**kw("vertical_flip"))
    g[0].slider(min_value=0.0, max_value=0.5, step=0.05, **kw("brightness_range"))
    g[1].slider(min_value=0.0, max_value=0.5, step=0.05, **kw("contrast_range"))
    g[0].slider(min_value=0.0, max_value=1.0, step=0.05, **kw("cutout"))
    g[1].slider(min_value=0.0, max_value=1.0, step=0.05, **kw("mixup_alpha"))
    g[0].slider(min_value=0.0, max_value=1.0, step=0.05, **kw("elastic"))
    g[1].slider(min_value=0.0, max_value=1.0, step=0.05, **kw("blur"))
    g[0].slider(min_value=0, max_value=2, **kw("ink_thickness"))
    g[1].slider(min_value=0.0, max_value=0.5, step=0.05, **kw("bleed_through"))

cfg = aug.from_dict({k: st.session_state[f"aug_{k}"] for k in KNOBS})
with right:
    for reason in aug.harms(cfg, lang()):
        st.error(tr("aug.harm", reason=reason), icon=":material/warning:")
    if not aug.harm_codes(cfg):
        st.caption(tr("aug.safe"))
    t0 = time.perf_counter()
    out = aug.preview(glyphs, cfg, n=32, seed=int(seed))
    ms = (time.perf_counter() - t0) * 1000
    # inline data URIs in the page's own message: no second request for a media file (that round trip cost
    # ~0.4 s per change here), so the grid follows a slider in about a quarter of a second
    with st.container(key="aug_grid"):
        st.markdown(f'<img alt="augmented samples" src="{png_data_uri(aug.montage(out, 8, 2, cfg.rescale))}" '
                    f'width="460">', unsafe_allow_html=True)
        st.caption(tr("aug.samples", ms=ms))
    rng = np.random.default_rng(int(seed))
    with st.container(key="aug_originals"):
        st.markdown(f'<img alt="originals" src="{png_data_uri(aug.montage(glyphs[rng.integers(0, len(glyphs), 8)], 8, 1))}" '
                    f'width="230">', unsafe_allow_html=True)
        st.caption(tr("aug.originals"))
    with st.form("aug_save", border=False):
        name = st.text_input(tr("aug.name"), key="aug_name")
        if st.form_submit_button(tr("aug.save")) and name.strip():
            s.save_augment_config(name, aug.to_dict(cfg))
            st.session_state["aug_flash"] = tr("aug.saved", name=name.strip())
            st.rerun()  # the new config is offered as a preset at once
