"""qbuild: build embedded ML artifacts (int8 .tflite, C arrays, firmware, footprint) from a Keras model.

Plain Python: no module in this package imports SCons except `qbuild.scons.tool`.
"""
import os as _os

__version__ = "0.1.0"

# TensorFlow's C++ logging is set up when it is first imported (by keras, sklearn or us): silence it before that.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# Reproducible training: op determinism alone is not enough on CPU; with several inter-op threads a DS-CNN's weights
# differed run to run (measured). One inter-op thread fixes it and was no slower here. TF reads this variable when its
# runtime starts, whoever imports TF first. (Results still depend on the intra-op thread count, i.e. the core count.)
_os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
