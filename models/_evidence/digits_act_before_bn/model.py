"""digits with the activation *before* BatchNormalization (what the advisor warns about; see docs/quantization-tips.md).

Same data, parameters and layer sizes as models/digits; only the order differs: Conv2D(relu) -> BatchNormalization.
`python -m qbuild advise models/_evidence/digits_act_before_bn/model.py` names each BatchNorm that cannot fold.
"""
from pathlib import Path

from qbuild.spec import ModelSpec, load_spec

my_model = ModelSpec(name="digits_act_before_bn", description="digits, activation before BatchNorm (advisor evidence)",
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
    for i, filters in enumerate((16, 32), 1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{i}")(x)  # relu first ...
        x = layers.BatchNormalization(name=f"bn{i}")(x)                                     # ... so BN cannot fold
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu", name="fc")(x)
    x = layers.BatchNormalization(name="bn_fc")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name="digits_act_before_bn")
