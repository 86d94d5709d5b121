"""Handwritten digits, 8x8 pixels 0..16 (scikit-learn's bundled copy: no download).

The device sees raw uint8 pixels; `samplewise_norm.rescale = 1/16` maps them to 0..1 on the device and in training.
"""
import numpy as np

from qbuild.spec import ModelSpec

my_model = ModelSpec(name="digits", version=1, description="8x8 handwritten digit classifier",
                     classes=[str(i) for i in range(10)])
my_model.tflite_converter["inference_input_type"] = np.float32
my_model.tflite_converter["inference_output_type"] = np.float32
my_model.tflite_converter["generate_quantization_report"] = True
my_model.tflite_converter["representative_dataset_max_samples"] = 500
my_model.model_parameters["samplewise_norm.rescale"] = 1.0 / 16.0
my_model.epochs = 12
my_model.batch_size = 32


@my_model.dataset
def load_digits():
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x = d.images.astype(np.uint8).reshape(-1, 8, 8, 1)
    y = d.target.astype(np.int32)
    order = np.random.RandomState(0).permutation(len(x))
    x, y = x[order], y[order]
    n_test = len(x) // 5
    return {"x_train": x[n_test:], "y_train": y[n_test:], "x_test": x[:n_test], "y_test": y[:n_test]}


@my_model.build
def build(input_shape, num_classes):
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = inputs
    for filters in (16, 32):
        # Conv -> BatchNorm -> ReLU: BN folds into the conv, ReLU fuses into it.
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32)(x)
    x = layers.BatchNormalization(momentum=0.9)(x)
    x = layers.ReLU()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="digits")
