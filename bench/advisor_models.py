"""Small digits models with and without each quantization problem (shared by tests/test_advise*.py and
bench/advisor_evidence.py, so the evidence and the tests look at the same graphs).

Data: scikit-learn's bundled 8x8 digits (raw pixels 0..16, offline). `digits_255()` scales them to 0..255 uint8, the
"camera pixels fed as is" case.
"""
from __future__ import annotations

import numpy as np

VARIANTS = ("bn_before_act", "act_before_bn", "ln_before_act", "ln_after_act", "plain")


def digits(max_value: int = 16):
    """(x_train, y_train, x_test, y_test): raw pixels scaled to 0..max_value (uint8, or uint16 above 255), split as
    models/digits does."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.images.reshape(-1, 8, 8, 1)
    dtype = np.uint8 if max_value <= 255 else np.uint16
    x = np.minimum(np.round(x * (max_value / 16.0)), max_value).astype(dtype)
    y = d.target.astype(np.int32)
    order = np.random.RandomState(0).permutation(len(x))
    x, y = x[order], y[order]
    n_test = len(x) // 5
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


def build(variant: str, filters=(16, 32), dense: int = 32):
    """A Conv-Conv-Dense-Dense digits classifier; `variant` decides where BatchNorm/LayerNorm and the activations sit.

    bn_before_act  Conv(no act) -> BN -> ReLU            (the recommended order: BN folds, ReLU fuses)
    act_before_bn  Conv(relu)   -> BN                    (BN cannot fold: left as MUL + ADD)
    ln_before_act  ... Dense(no act) -> LN -> ReLU       (convs as bn_before_act)
    ln_after_act   ... Dense(relu)   -> LN
    plain          Conv(relu), Dense(relu), no normalization layers
    """
    import keras
    from keras import layers

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; one of {VARIANTS}")
    inputs = keras.Input(shape=(8, 8, 1), name="pixels")
    x = inputs
    for i, f in enumerate(filters, 1):
        if variant in ("act_before_bn", "plain"):
            x = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{i}")(x)
            if variant == "act_before_bn":
                x = layers.BatchNormalization(name=f"bn{i}")(x)
        else:
            x = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
            x = layers.BatchNormalization(name=f"bn{i}")(x)
            x = layers.ReLU(name=f"relu{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    if variant == "bn_before_act":
        x = layers.Dense(dense, name="fc")(x)
        x = layers.BatchNormalization(name="bn_fc")(x)
        x = layers.ReLU(name="relu_fc")(x)
    elif variant == "act_before_bn":
        x = layers.Dense(dense, activation="relu", name="fc")(x)
        x = layers.BatchNormalization(name="bn_fc")(x)
    elif variant == "ln_before_act":
        x = layers.Dense(dense, name="fc")(x)
        x = layers.LayerNormalization(name="ln_fc")(x)
        x = layers.ReLU(name="relu_fc")(x)
    elif variant == "ln_after_act":
        x = layers.Dense(dense, activation="relu", name="fc")(x)
        x = layers.LayerNormalization(name="ln_fc")(x)
    else:
        x = layers.Dense(dense, activation="relu", name="fc")(x)
    outputs = layers.Dense(10, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name=variant)


def trained(variant: str, x, y, epochs: int = 12, seed: int = 0, batch_size: int = 32):
    """build(variant) and train it, deterministically: seeded before the weights are created, op determinism on,
    so the same seed gives the same model and the evidence reruns to the same numbers."""
    import keras

    from qbuild.model.tfenv import seed_everything

    seed_everything(seed)
    model = build(variant)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    return model


def float_accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y))


def int8_accuracy(tflite: bytes, x, y) -> float:
    """Accuracy of the converted model with TFLite's reference kernels (bit-exact with TFLM)."""
    from qbuild.model.tfenv import captured_fds, import_tf

    tf = import_tf()
    with captured_fds():
        it = tf.lite.Interpreter(model_content=tflite,
                                 experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    hits = 0
    for xi, yi in zip(x, y):
        it.set_tensor(inp["index"], xi[None].astype(np.float32))
        it.invoke()
        hits += int(np.argmax(it.get_tensor(out["index"])[0]) == yi)
    return hits / len(x)
