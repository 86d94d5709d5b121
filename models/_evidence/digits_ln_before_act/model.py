"""digits with LayerNormalization before the activation of its Dense (advisor evidence; see docs/quantization-tips.md).

Same data and parameters as models/digits. `python -m qbuild advise models/_evidence/digits_ln_before_act/model.py`
has no graph finding (the order the tip recommends).
"""
from pathlib import Path

from qbuild.spec import ModelSpec, load_spec

my_model = ModelSpec(name="digits_ln_before_act",
                     description="digits, LayerNorm before the activation (advisor evidence)",
                     classes=[str(i) for i in range(10)])
my_model.tflite_converter["representative_dataset_max_samples"] = 500
my_model.model_parameters["samplewise_norm.rescale"] = 1.0 / 16.0
my_model.epochs = 12


# The same data as models/digits (the dataset is rebuilt when that file changes).
my_model.dataset(load_spec(Path(__file__).resolve().parents[2] / "digits" / "model.py").dataset_function)


@my_model.build
def build(input_shape, num_classes):
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = inputs
    for filters in (16, 32):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32, name="fc")(x)
    x = layers.LayerNormalization(name="ln_fc")(x)      # before the activation, as the tip says
    x = layers.ReLU(name="relu_fc")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name="digits_ln_before_act")
