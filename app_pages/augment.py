"""Augment: preview every augmentation knob on the user's own crops, see harm warnings, save a config."""

from __future__ import annotations

import base64
import time
from dataclasses import asdict, fields

import numpy as np
import streamlit as st

from app_pages._shell import store, tr
from kuzushi_core.crops import crop_box, to_glyph
from kuzushi_core.data.datasets import workspace_items
from kuzushi_core.imaging import read_image
from kuzushi_core.train import augment as aug

s = store()
st.title(tr("aug.title"))
st.caption(tr("aug.intro"))
if "aug_flash" in st.session_state:
    st.success(st.session_state.pop("aug_flash"))

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
c_preset.selectbox(tr("aug.preset"), list(presets), key="aug_preset", on_change=load_preset)
seed = c_seed.number_input(tr("aug.seed"), 0, 9999, key="aug_seed_value", value=0)

left, right = st.columns([1, 2])
with left:
    g = st.columns(2)
    g[0].slider("rotation_range (°)", 0.0, 45.0, key="aug_rotation_range", step=1.0)
    g[1].slider("shear_range (°)", 0.0, 30.0, key="aug_shear_range", step=1.0)
    g[0].slider("width_shift_range", 0.0, 0.3, key="aug_width_shift_range", step=0.01)
    g[1].slider("height_shift_range", 0.0, 0.3, key="aug_height_shift_range", step=0.01)
    g[0].slider("zoom_range", 0.0, 0.5, key="aug_zoom_range", step=0.01)
    g[1].selectbox("fill_mode", aug.FILL_MODES, key="aug_fill_mode")
    g[0].slider("cval", 0.0, 255.0, key="aug_cval", step=1.0)
    g[1].selectbox("rescale", [1.0, 1 / 255], key="aug_rescale", format_func=lambda v: "1" if v == 1 else "1/255")
    g[0].toggle("horizontal_flip", key="aug_horizontal_flip")
    g[1].toggle("vertical_flip", key="aug_vertical_flip")
    g[0].slider("brightness", 0.0, 0.5, key="aug_brightness_range", step=0.05)
    g[1].slider("contrast", 0.0, 0.5, key="aug_contrast_range", step=0.05)
    g[0].slider("cutout", 0.0, 1.0, key="aug_cutout", step=0.05)
    g[1].slider("mixup α", 0.0, 1.0, key="aug_mixup_alpha", step=0.05)
    g[0].slider("elastic", 0.0, 1.0, key="aug_elastic", step=0.05)
    g[1].slider("blur", 0.0, 1.0, key="aug_blur", step=0.05)
    g[0].slider("ink thickness (px)", 0, 2, key="aug_ink_thickness")
    g[1].slider("bleed-through", 0.0, 0.5, key="aug_bleed_through", step=0.05)

cfg = aug.from_dict({k: st.session_state[f"aug_{k}"] for k in KNOBS})
with right:
    for reason in aug.harms(cfg):
        st.error(tr("aug.harm", reason=reason), icon=":material/warning:")
    if not aug.harms(cfg):
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
