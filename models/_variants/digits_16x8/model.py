"""models/digits built in 16x8 mode: int16 activations, int8 weights (float32 I/O, as the int8 build).

Same data, model code, training and parameters as models/digits (a `variant`), so the two builds compare the modes:
`scons board=qemu-m33 model=models/_variants/digits_16x8/model.py run`.
"""
from pathlib import Path

from qbuild.spec import load_spec

my_model = load_spec(Path(__file__).resolve().parents[2] / "digits" / "model.py").variant(
    "digits_16x8", "8x8 handwritten digit classifier, 16x8 quantization")
my_model.tflite_converter["supported_ops"] = ["EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"]
