"""CNN architectures: feature extractor + classifier head, split at a named layer.

Every model takes a glyph H×W×1 with values 0–255 (white ink on black) and does
all preprocessing with layers inside the model (rescaling, augmentation), so a
saved ``.keras`` file is self-contained.  The output of the layer named
:data:`FEATURES` is the boundary between the convolutional base and the head:
transfer learning freezes everything up to it.  The head ends with a Dense
layer named ``logits`` and a softmax named ``probs``; temperature scaling is
folded into the ``logits`` weights after training.  A reader with a specialist
(:func:`with_specialist`) names its own class Dense ``reader_logits`` and its
``logits`` is the sum of that and the specialist's term.
"""

from __future__ import annotations

from kuzushi_core.lazy import keras

FEATURES = "features"
ARCHITECTURES = ("baseline", "default", "reader")


def augmentation_block(rotation: float = 10.0, shift: float = 0.08, zoom: float = 0.10, seed: int = 0):
    """Training-time augmentation as Keras preprocessing layers (inactive at inference).

    Safe for characters: small rotation, shift and zoom, no flips.  No shear:
    Keras 3.15's ``RandomShear`` writes a config it refuses to load again
    (negative factor), so a model holding it could not be reopened; and shear
    0.15 cost 2 points of KMNIST test accuracy in a measured run.
    """
    return keras.Sequential(
        [
            keras.layers.RandomRotation(rotation / 360.0, fill_mode="constant", fill_value=0.0, seed=seed),
            keras.layers.RandomTranslation(shift, shift, fill_mode="constant", fill_value=0.0, seed=seed + 1),
            keras.layers.RandomZoom((-zoom, zoom), fill_mode="constant", fill_value=0.0, seed=seed + 2),
        ],
        name="augment",
    )


def _head(x, n_classes: int, dense: int, dropout: float, logits_name: str = "logits"):
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    if dense:
        x = keras.layers.Dense(dense, activation="relu", name="head_dense")(x)
        x = keras.layers.Dropout(dropout, name="head_dropout2")(x)
    x = keras.layers.Dense(n_classes, name=logits_name)(x)
    return keras.layers.Activation("softmax", name="probs")(x)


def baseline_cnn(n_classes: int, size: int = 28) -> keras.Model:
    """The lecture's CNN: conv–pool–conv–pool–dense."""
    inp = keras.Input((size, size, 1), name="glyph")
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inp)
    x = keras.layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(name="pool2")(x)
    x = keras.layers.Flatten(name=FEATURES)(x)
    x = keras.layers.Dense(128, activation="relu", name="head_dense")(x)
    x = keras.layers.Dense(n_classes, name="logits")(x)
    out = keras.layers.Activation("softmax", name="probs")(x)
    return keras.Model(inp, out, name="baseline_cnn")


def default_cnn(n_classes: int, size: int = 28, augment: bool = True, width: int = 32, seed: int = 0) -> keras.Model:
    """The default CPU model (~8 M multiply-adds a glyph at 28 px).

    Three conv blocks (5×5 then 3×3 kernels) with batch norm and max pooling,
    in-model augmentation, then a dense head with dropout.  Sized for a 2-core
    CPU: convolutions at full resolution are the cost, so the widest block runs
    at 7×7.
    """
    inp = keras.Input((size, size, 1), name="glyph")
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inp)
    if augment:
        x = augmentation_block(seed=seed)(x)
    if size > 32:  # 64 px input: a stride-2 stem keeps the cost of the 28 px model
        x = keras.layers.AveragePooling2D(size // 28, name="stem_pool")(x)
    for b, (filters, k) in enumerate([(width, 5), (width * 2, 3), (width * 4, 3)], start=1):
        x = keras.layers.Conv2D(filters, k, padding="same", use_bias=False, name=f"block{b}_conv")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"block{b}_bn")(x)
        x = keras.layers.Activation("relu", name=f"block{b}_relu")(x)
        x = keras.layers.MaxPooling2D(name=f"block{b}_pool")(x)
        x = keras.layers.Dropout(0.1 * b, name=f"block{b}_dropout")(x)
    x = keras.layers.Flatten(name=FEATURES)(x)
    out = _head(x, n_classes, dense=256, dropout=0.4)
    return keras.Model(inp, out, name="default_cnn")


def reader_cnn(n_classes: int, size: int = 28, width: int = 32, dense: int = 512, seed: int = 0,
               logits_name: str = "logits") -> keras.Model:
    """The reader for thousands of classes (~13 M multiply-adds a glyph at 28 px).

    The default CNN's three blocks (same names and shapes, so a KMNIST model's weights can start it), lighter
    dropout (the data are hundreds of thousands of glyphs, not 7,000), a fourth 3×3 block of ``width * 8``
    filters at 3×3, and a wider head: ``features`` → 512 → one logit per class.
    """
    inp = keras.Input((size, size, 1), name="glyph")
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inp)
    x = augmentation_block(rotation=6.0, shift=0.06, zoom=0.08, seed=seed)(x)
    if size > 32:
        x = keras.layers.AveragePooling2D(size // 28, name="stem_pool")(x)
    for b, (filters, k) in enumerate([(width, 5), (width * 2, 3), (width * 4, 3), (width * 8, 3)], start=1):
        x = keras.layers.Conv2D(filters, k, padding="same", use_bias=False, name=f"block{b}_conv")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"block{b}_bn")(x)
        x = keras.layers.Activation("relu", name=f"block{b}_relu")(x)
        if b < 4:
            x = keras.layers.MaxPooling2D(name=f"block{b}_pool")(x)
        x = keras.layers.Dropout(0.05 * b, name=f"block{b}_dropout")(x)
    x = keras.layers.Flatten(name=FEATURES)(x)
    out = _head(x, n_classes, dense=dense, dropout=0.3, logits_name=logits_name)
    return keras.Model(inp, out, name="reader_cnn")


def class_logits(model: keras.Model):
    """The Dense layer that maps the features to one logit per class (``reader_logits`` in a reader with a
    specialist, else ``logits``)."""
    try:
        return model.get_layer("reader_logits")
    except ValueError:
        return model.get_layer("logits")


def logit_denses(model: keras.Model) -> list:
    """The Dense layers whose outputs add up to the model's ``logits`` (scaled together to fold a temperature)."""
    layer = model.get_layer("logits")
    if isinstance(layer, keras.layers.Dense):
        return [layer]
    return [model.get_layer("reader_logits"), model.get_layer(SPECIALIST_LOGITS)]


SPECIALIST = "specialist"
SPECIALIST_LOGITS = "specialist_logits"


def with_specialist(model: keras.Model, specialist: keras.Model, index, weight: float, seed: int = 0) -> keras.Model:
    """A reader ``model`` with a specialist for some of its classes beside it: a product of experts.

    The specialist (e.g. the 10-class KMNIST model, trained on those classes alone) reads the same glyph; for each
    of its classes ``index[j]`` the reader's logit is raised by ``weight`` · the specialist's log-probability of
    its class j:  p(c | x) ∝ p_reader(c | x) · p_specialist(c | x)^weight for those classes, p_reader(c | x) for
    all others.  The specialist re-ranks its classes among themselves, and lowers them all when it is unsure
    which one the glyph is (a kanji that the reader took for one of them); it never raises another class.
    Built from :func:`reader_cnn` (same layer names; the class Dense renamed ``reader_logits``) with ``model``'s
    weights; the added layers are built-in ones with fixed weights (``specialist_logits``: ``weight`` at the
    specialist's classes), so the file loads in safe mode, and a temperature folds into both Dense keras.layers.
    """
    import numpy as np

    size, n = int(model.input_shape[1]), int(model.output_shape[-1])
    k = int(specialist.output_shape[-1])
    if len(index) != k:
        raise ValueError(f"the specialist has {k} classes, {len(index)} indices were given")
    fresh = reader_cnn(n, size, seed=seed, logits_name="reader_logits")
    _copy_weights(model, fresh, {"logits": "reader_logits"})
    inp = fresh.inputs[0]
    spec = keras.Model(specialist.inputs, specialist.get_layer("logits").output, name=SPECIALIST)
    spec.trainable = False
    s = keras.layers.Activation("log_softmax", name="specialist_log_probs")(spec(inp))
    project = keras.layers.Dense(n, use_bias=False, trainable=False, name=SPECIALIST_LOGITS)
    term = project(s)
    kernel = np.zeros((k, n), np.float32)
    kernel[np.arange(k), np.asarray(index)] = weight
    project.set_weights([kernel])
    logits = keras.layers.Add(name="logits")([fresh.get_layer("reader_logits").output, term])
    out = keras.layers.Activation("softmax", name="probs")(logits)
    return keras.Model(inp, out, name="reader_with_specialist")


def without_specialist(model: keras.Model) -> keras.Model:
    """The reader of a :func:`with_specialist` model alone (its class Dense named ``logits`` again)."""
    fresh = reader_cnn(int(model.output_shape[-1]), int(model.input_shape[1]))
    _copy_weights(model, fresh, {"reader_logits": "logits"}, skip=(SPECIALIST, SPECIALIST_LOGITS))
    return fresh


def _copy_weights(src: keras.Model, dst: keras.Model, rename: dict[str, str], skip=()) -> None:
    """Every weighted layer of ``src`` but those named in ``skip`` into the layer of ``dst`` of the same name, or of
    ``rename[name]``; shapes must agree."""
    for layer in src.layers:
        if not layer.weights or layer.name in skip:
            continue
        target = rename.get(layer.name, layer.name)
        try:
            mine = dst.get_layer(target)
        except ValueError as exc:
            raise ValueError(f"{src.name} is not a reader network (no layer {target!r})") from exc
        if [w.shape for w in mine.weights] != [w.shape for w in layer.weights]:
            raise ValueError(f"{src.name}: layer {layer.name} differs from the reader architecture's")
        mine.set_weights(layer.get_weights())


def warm_start(model: keras.Model, donor: keras.Model) -> list[str]:
    """Copy the weights of every layer of ``donor`` whose name and weight shapes ``model`` shares (its conv base)."""
    copied = []
    for layer in donor.layers:
        if not layer.weights or not layer.name.startswith("block"):
            continue
        try:
            mine = model.get_layer(layer.name)
        except ValueError:
            continue
        if [w.shape for w in mine.weights] == [w.shape for w in layer.weights]:
            mine.set_weights(layer.get_weights())
            copied.append(layer.name)
    return copied


def build(arch: str, n_classes: int, size: int = 28, seed: int = 0) -> keras.Model:
    if arch == "baseline":
        return baseline_cnn(n_classes, size)
    if arch == "default":
        return default_cnn(n_classes, size, seed=seed)
    if arch == "reader":
        return reader_cnn(n_classes, size, seed=seed)
    raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHITECTURES}")


def conv_blocks(model: keras.Model) -> list[str]:
    """Names of the conv blocks of the feature extractor, bottom to top."""
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            block = layer.name.split("_")[0]
            if block not in names:
                names.append(block)
        if layer.name == FEATURES:
            break
    return names
