"""Keyword spotting: 10 words + unknown + silence from 1 s of audio, trained offline on eSpeak NG speech.

The device sees (49, 40) uint16 features from the TFLM audio frontend; `samplewise_norm.mean_and_std` normalises each
clip on the device and in training. The data set lives in kws_dataset.py (editing this file retrains but does not
resynthesize); see docs/kws.md.
"""
import numpy as np

from kws_dataset import CLASSES, RECORDINGS_ENV, load_dataset, recordings_dir
from qbuild.spec import ModelSpec

my_model = ModelSpec(name="kws", version=1, description="keyword spotting, DS-CNN on TFLM audio-frontend features",
                     classes=CLASSES)
my_model.tflite_converter["inference_input_type"] = np.float32
my_model.tflite_converter["inference_output_type"] = np.float32
my_model.tflite_converter["generate_quantization_report"] = True
my_model.tflite_converter["representative_dataset_max_samples"] = 500
my_model.model_parameters["samplewise_norm.mean_and_std"] = True
my_model.epochs = 14
my_model.batch_size = 100
my_model.seed = 0

my_model.dataset(load_dataset)
# Synthesis lives in kws_speech.py. Own recordings are data too: adding, removing or editing a WAV file in the
# recordings folder (or pointing QBUILD_KWS_RECORDINGS elsewhere) rebuilds the dataset.
my_model.data_sources = ["kws_speech.py"]
my_model.data_env = [RECORDINGS_ENV]
my_model.data_dirs = [str(recordings_dir() or "recordings")]


@my_model.build
def build(input_shape, num_classes):
    """DS-CNN (Zhang et al., "Hello Edge"): a strided conv, depthwise-separable blocks, average pooling, one Dense.

    BatchNorm sits between each conv and its ReLU so it folds into the conv and ReLU fuses into it. Momentum 0.9: with
    Keras' 0.99 and this few steps the moving statistics lag the weights and inference accuracy collapses.
    """
    import keras
    from keras import layers

    def conv_bn_relu(x, layer):
        x = layer(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        return layers.ReLU()(x)

    filters = 64
    inputs = keras.Input(shape=input_shape)
    x = inputs if len(input_shape) == 3 else layers.Reshape((*input_shape, 1))(inputs)
    x = conv_bn_relu(x, layers.Conv2D(filters, (10, 4), strides=2, padding="same", use_bias=False))
    for _ in range(4):
        # (A stride of 2 in the first block cut training time 3x but lost 5 points on held-out voices.)
        x = conv_bn_relu(x, layers.DepthwiseConv2D(3, padding="same", use_bias=False))
        x = conv_bn_relu(x, layers.Conv2D(filters, 1, use_bias=False))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="kws")


@my_model.train
def train(model, x_train, y_train, x_val, y_val):
    """Adam with a cosine-decayed learning rate; no XLA (7x slower per epoch on CPU here)."""
    import keras

    keras.utils.set_random_seed(my_model.seed)
    steps = my_model.epochs * int(np.ceil(len(x_train) / my_model.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=False)
    model.fit(x_train, y_train, epochs=my_model.epochs, batch_size=my_model.batch_size,
              validation_data=(x_val, y_val), verbose=2)
    return model
