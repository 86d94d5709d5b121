"""Keyword spotting: 10 words + unknown + silence from 1 s of audio, trained offline on eSpeak NG speech.

The device sees (49, 40) uint16 features from the TFLM audio frontend; `samplewise_norm.mean_and_std` normalises each
clip on the device and in training. The data set lives in kws_dataset.py (editing this file retrains but does not
resynthesize); see docs/kws.md. The architecture was chosen from the variants measured by bench/kws_variants.py.
"""
import numpy as np

from kws_dataset import CLASSES, RECORDINGS_ENV, load_dataset, recordings_dir
from qbuild.spec import ModelSpec

my_model = ModelSpec(name="kws", version=2, description="keyword spotting, DS-CNN on TFLM audio-frontend features",
                     classes=CLASSES)
my_model.tflite_converter["inference_input_type"] = np.float32
my_model.tflite_converter["inference_output_type"] = np.float32
my_model.tflite_converter["generate_quantization_report"] = True
my_model.tflite_converter["representative_dataset_max_samples"] = 500
my_model.model_parameters["samplewise_norm.mean_and_std"] = True
my_model.epochs = 30
my_model.batch_size = 100
my_model.seed = 0

my_model.dataset(load_dataset)
# Synthesis lives in kws_speech.py. Own recordings are data too: adding, removing or editing a WAV file in the
# recordings folder (or pointing QBUILD_KWS_RECORDINGS elsewhere) rebuilds the dataset.
my_model.data_sources = ["kws_speech.py"]
my_model.data_env = [RECORDINGS_ENV]
my_model.data_dirs = [str(recordings_dir() or "recordings")]

# MLPerf Tiny's DS-CNN on the features averaged over 4 channels (49x40 -> 49x10): 2.66 M MACs, 23.5 KB arena, so it
# runs in real time and fits a 32 KB-RAM part. bench/kws_variants.py measures it against the other variants (docs/kws.md).
ARCH = dict(pool=(1, 4), filters=64, kernel=(10, 4), strides=(2, 2), blocks=4)


def ds_cnn(input_shape, num_classes, pool=None, filters=64, kernel=(10, 4), strides=(2, 2), blocks=4, dropout=0.2):
    """DS-CNN (Zhang et al., "Hello Edge"): optional average pooling of the features, a strided conv,
    depthwise-separable blocks, global average pooling, one Dense. With pool=None and the defaults it is the model
    shipped before issue 19 (25x20x64 activations, 10.6 M MACs).

    BatchNorm sits between each conv and its ReLU so it folds into the conv and ReLU fuses into it. Momentum 0.9: with
    Keras' 0.99 and this few steps the moving statistics lag the weights and inference accuracy collapses.
    """
    import keras
    from keras import layers

    def conv_bn_relu(x, layer):
        x = layer(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        return layers.ReLU()(x)

    inputs = keras.Input(shape=input_shape)
    x = inputs if len(input_shape) == 3 else layers.Reshape((*input_shape, 1))(inputs)
    if pool:
        x = layers.AveragePooling2D(pool)(x)
    x = conv_bn_relu(x, layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False))
    for _ in range(blocks):
        x = conv_bn_relu(x, layers.DepthwiseConv2D(3, padding="same", use_bias=False))
        x = conv_bn_relu(x, layers.Conv2D(filters, 1, use_bias=False))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="kws")


@my_model.build
def build(input_shape, num_classes):
    return ds_cnn(input_shape, num_classes, **ARCH)


# Training-time augmentation (in train() only; the model and the data set are unchanged): every epoch each clip is
# shifted by a random number of frames (20 ms each) and of filterbank channels, edges repeated. A channel shift moves
# the formants as a different vocal tract does, and held-out voices differ in exactly that. Seeded: same shifts every run.
AUGMENT = dict(time_shift=4, freq_shift=2)


def shifted(x, rng, time_shift=0, freq_shift=0):
    """x (N, frames, channels, ...) with each sample shifted by its own random (frames, channels), edges repeated."""
    n, t, f = x.shape[:3]
    dt = rng.integers(-time_shift, time_shift + 1, n)
    df = rng.integers(-freq_shift, freq_shift + 1, n)
    ti = np.clip(np.arange(t)[None, :] - dt[:, None], 0, t - 1)
    fi = np.clip(np.arange(f)[None, :] - df[:, None], 0, f - 1)
    return x[np.arange(n)[:, None, None], ti[:, :, None], fi[:, None, :]]


@my_model.train
def train(model, x_train, y_train, x_val, y_val):
    """Adam with a cosine-decayed learning rate, one fit() per epoch on freshly shifted clips; no XLA (7x slower per
    epoch on CPU here)."""
    import keras

    keras.utils.set_random_seed(my_model.seed)
    steps = my_model.epochs * int(np.ceil(len(x_train) / my_model.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    if not any(AUGMENT.values()):
        model.fit(x_train, y_train, epochs=my_model.epochs, batch_size=my_model.batch_size,
                  validation_data=(x_val, y_val), verbose=2)
        return model
    rng = np.random.default_rng([my_model.seed, 19])
    for epoch in range(my_model.epochs):
        model.fit(shifted(x_train, rng, **AUGMENT), y_train, initial_epoch=epoch, epochs=epoch + 1,
                  batch_size=my_model.batch_size, validation_data=(x_val, y_val), verbose=2)
    return model
