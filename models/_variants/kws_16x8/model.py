"""models/kws built in 16x8 mode: int16 activations, int8 weights (float32 I/O, as the int8 build).

Same data, model code, training and parameters as models/kws (a `variant`; it trains its own copy, ~5 min, with the same
seed): `scons board=qemu-m33 model=models/_variants/kws_16x8/model.py run`.
"""
from pathlib import Path

from qbuild.spec import load_spec

my_model = load_spec(Path(__file__).resolve().parents[2] / "kws" / "model.py").variant(
    "kws_16x8", "keyword spotting DS-CNN, 16x8 quantization")
my_model.tflite_converter["supported_ops"] = ["EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"]
